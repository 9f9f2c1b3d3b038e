"""Pictures of a trial: original, reconstruction, JPEG and AVIF at its bpp; rate–quality curves."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import FileResponse

from dashboard.api.params import TrialId
from dashboard.auth import reader
from dashboard.deps import app_images, app_store
from dashboard.images import ANCHOR_RANGES, AnchorPoint, ImageService
from dashboard.schemas.common import ERROR_RESPONSES
from dashboard.schemas.results import (
    AnchorOut,
    CurvePoint,
    ImageCurves,
    ImageVariantsOut,
    RateQualityOut,
)
from dashboard.views import required_spec
from nas.domain import TrialRecord
from nas.errors import NotFoundError
from nas.storage import CampaignStore
from nas.storage.browsing import RECONSTRUCTION_KIND

router = APIRouter(
    prefix="/api/trials",
    tags=["images"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(reader)],
)
Variant = Literal["original", "reconstruction", "jpeg", "avif"]
ImageName = Path(min_length=1, max_length=500, description="eval image name")
_PNG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "a PNG image"}
}
_CACHE = {"Cache-Control": "public, max-age=3600"}


def _eval_source(store: CampaignStore, trial: TrialRecord) -> str:
    return required_spec(store.campaign(trial.campaign_id)).data.eval


def _image_bpp(store: CampaignStore, trial: TrialRecord, image: str) -> float:
    metrics = store.per_image_metrics(trial.id).get(image, {})
    if "bpp" not in metrics:
        raise NotFoundError(f"trial {trial.number} (id {trial.id}) has no bpp for image {image!r}")
    return metrics["bpp"]


def _variant_url(trial_id: TrialId, image: str, variant: str) -> str:
    return f"/api/trials/{trial_id}/images/{image}/{variant}.png"


@router.get("/{trial_id}/images/{image}", response_model=ImageVariantsOut)
def image_variants(
    trial_id: TrialId,
    image: str = ImageName,
    store: CampaignStore = Depends(app_store),
    images: ImageService = Depends(app_images),
) -> ImageVariantsOut:
    """Links to the original, the reconstruction, and the anchors encoded at the trial's bpp."""
    trial = store.trial(trial_id)
    original = images.original(_eval_source(store, trial), image)
    metrics = store.per_image_metrics(trial_id).get(image, {})
    has_reconstruction = any(
        a.kind == RECONSTRUCTION_KIND and a.filename == f"{image}.png"
        for a in store.artifacts(trial_id)
    )
    anchors = []
    if "bpp" in metrics:
        for codec in ANCHOR_RANGES:
            point, _ = images.anchor_at_bpp(original, codec, metrics["bpp"])
            anchors.append(
                AnchorOut(
                    codec=codec,
                    quality=point.quality,
                    bpp=point.bpp,
                    psnr=point.psnr,
                    url=_variant_url(trial_id, image, codec),
                )
            )
    return ImageVariantsOut(
        image=image,
        trial_bpp=metrics.get("bpp"),
        trial_psnr=metrics.get("psnr"),
        original_url=_variant_url(trial_id, image, "original"),
        reconstruction_url=_variant_url(trial_id, image, "reconstruction")
        if has_reconstruction
        else None,
        anchors=anchors,
    )


@router.get("/{trial_id}/images/{image}/{variant}.png", response_class=FileResponse, responses=_PNG)
def image_png(
    trial_id: TrialId,
    variant: Variant,
    image: str = ImageName,
    store: CampaignStore = Depends(app_store),
    images: ImageService = Depends(app_images),
) -> FileResponse:
    """One picture of the side-by-side viewer, as PNG (anchors decoded, so pixels compare)."""
    trial = store.trial(trial_id)
    if variant == "reconstruction":
        for artifact in store.artifacts(trial_id):
            if artifact.kind == RECONSTRUCTION_KIND and artifact.filename == f"{image}.png":
                return FileResponse(store.artifact_path(artifact.sha256), media_type="image/png")
        raise NotFoundError(
            f"trial {trial.number} (id {trial_id}) has no reconstruction of {image!r}"
        )
    original = images.original(_eval_source(store, trial), image)
    if variant == "original":
        return FileResponse(images.original_png(original), media_type="image/png", headers=_CACHE)
    _, path = images.anchor_at_bpp(original, variant, _image_bpp(store, trial, image))
    return FileResponse(path, media_type="image/png", headers=_CACHE)


def _mean_curve(curves: list[list[AnchorPoint]]) -> list[CurvePoint]:
    """Mean bpp and PSNR over images at each quality setting that every image has."""
    if not curves:
        return []
    qualities = sorted(set.intersection(*({p.quality for p in c} for c in curves)))
    by_quality = [{p.quality: p for p in c} for c in curves]
    return [
        CurvePoint(
            quality=q,
            bpp=sum(c[q].bpp for c in by_quality) / len(curves),
            psnr=sum(c[q].psnr for c in by_quality) / len(curves),
        )
        for q in qualities
    ]


def _points(curve: list[AnchorPoint]) -> list[CurvePoint]:
    return [CurvePoint(quality=p.quality, bpp=p.bpp, psnr=p.psnr) for p in curve]


def _mean_point(metrics: dict[str, float]) -> CurvePoint | None:
    if "bpp" in metrics and "psnr" in metrics:
        return CurvePoint(bpp=metrics["bpp"], psnr=metrics["psnr"])
    return None


@router.get("/{trial_id}/rate-quality", response_model=RateQualityOut)
def rate_quality(
    trial_id: TrialId,
    store: CampaignStore = Depends(app_store),
    images: ImageService = Depends(app_images),
) -> RateQualityOut:
    """The trial's (bpp, PSNR) per eval image and on average, against JPEG and AVIF curves on
    the same images, and the campaign's front for context."""
    trial = store.trial(trial_id)
    originals = images.originals(_eval_source(store, trial))
    per_image = store.per_image_metrics(trial_id)
    names = sorted(per_image) if per_image else sorted(originals)
    names = [n for n in names if n in originals]
    jpeg = {n: images.anchor_curve(originals[n], "jpeg") for n in names}
    avif = {n: images.anchor_curve(originals[n], "avif") for n in names}
    return RateQualityOut(
        trial=_mean_point(trial.metrics),
        front=[p for t in store.front(trial.campaign_id) if (p := _mean_point(t.metrics))],
        jpeg=_mean_curve(list(jpeg.values())),
        avif=_mean_curve(list(avif.values())),
        images=[
            ImageCurves(
                image=n,
                trial=_mean_point(per_image.get(n, {})),
                jpeg=_points(jpeg[n]),
                avif=_points(avif[n]),
            )
            for n in names
        ],
    )
