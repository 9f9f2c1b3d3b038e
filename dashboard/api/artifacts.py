"""Artifact downloads, by content hash only: the URL names the bytes, not a path."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Depends, Path
from fastapi.responses import FileResponse

from dashboard.auth import reader
from dashboard.deps import app_store
from dashboard.schemas.common import ERROR_RESPONSES
from nas.storage import CampaignStore

router = APIRouter(
    prefix="/api/artifacts",
    tags=["artifacts"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(reader)],
)
# Content-addressed: the bytes behind a URL never change.
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


@router.get(
    "/{sha256}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}},
)
def download_artifact(
    sha256: str = Path(pattern="^[0-9a-f]{64}$", description="SHA-256 of the content"),
    store: CampaignStore = Depends(app_store),
) -> FileResponse:
    """The stored file with this SHA-256, named as its first recorded artifact."""
    record = store.artifact_by_digest(sha256)
    path = store.artifact_path(sha256)
    media_type = mimetypes.guess_type(record.filename)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, filename=record.filename, headers=IMMUTABLE)
