"""Oversized uploads are refused with 413 and a JSON error, nothing stored; `codecnas serve`
refuses placeholder secrets outside the local profile."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from codecnas.cli import app as cli
from codecnas.settings import UnsafeSettingsError, refuse_placeholder_secrets
from dashboard import DashboardSettings, create_app
from nas.storage import CampaignStore
from nas.storage.access import Role
from tests.conftest import tiny_spec


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CampaignStore]:
    with CampaignStore(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "artifacts") as opened:
        yield opened


def _client(tmp_path: Path, store: CampaignStore) -> TestClient:
    settings = DashboardSettings(cache_dir=tmp_path / "cache", log_dir=tmp_path / "logs")
    return TestClient(create_app(settings, store))


def test_a_spec_upload_over_the_limit_is_refused_and_nothing_stored(
    tmp_path: Path, store: CampaignStore
) -> None:
    _, secret = store.create_token("admin", Role.ADMIN)
    auth = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    spec = tiny_spec()
    big = json.dumps({"spec": {**spec, "padding": "x" * (1024 * 1024)}}).encode()
    with _client(tmp_path, store) as client:
        declared = client.post("/api/campaigns", content=big, headers=auth)
        chunked = client.post(
            "/api/campaigns", content=(big[i : i + 65536] for i in range(0, len(big), 65536)),
            headers=auth,
        )  # fmt: skip
        small = client.post("/api/campaigns", json={"spec": spec}, headers=auth)
    for response in (declared, chunked):
        assert response.status_code == 413, response.text
        body = response.json()
        assert body["error"] == "request_too_large"
        assert (
            "1,048,576 bytes" in body["detail"] and "CODECNAS_MAX_REQUEST_BYTES" in body["detail"]
        )
    assert small.status_code == 201, small.text
    assert [c.name for c in store.campaigns()] == [spec["name"]], "an oversized spec was stored"


def test_placeholder_secrets_are_refused_outside_the_local_profile() -> None:
    sqlite = "sqlite:///x.sqlite"
    placeholder = {"CODECNAS_ADMIN_TOKEN": "CHANGE_ME"}
    assert refuse_placeholder_secrets(placeholder, sqlite) == "local"
    production = {"CODECNAS_PROFILE": "production", **placeholder, "RAY_AUTH_TOKEN": "s3cr3t"}
    with pytest.raises(UnsafeSettingsError, match="CODECNAS_ADMIN_TOKEN") as caught:
        refuse_placeholder_secrets(production, sqlite)
    assert "RAY_AUTH_TOKEN" not in str(caught.value)
    with pytest.raises(UnsafeSettingsError, match="password of CODECNAS_DATABASE_URL"):
        refuse_placeholder_secrets(
            {"CODECNAS_PROFILE": "production"}, "postgresql+psycopg://codecnas:CHANGE_ME@db/x"
        )
    with pytest.raises(UnsafeSettingsError, match="'staging'"):
        refuse_placeholder_secrets({"CODECNAS_PROFILE": "staging"}, sqlite)
    real = {"CODECNAS_PROFILE": "production", "CODECNAS_ADMIN_TOKEN": "k3y-" + "9" * 30}
    assert refuse_placeholder_secrets(real, sqlite) == "production"


def test_serve_refuses_to_start_with_a_placeholder_token(tmp_path: Path) -> None:
    env = {
        "CODECNAS_HOME": str(tmp_path),
        "CODECNAS_PROFILE": "production",
        "CODECNAS_ADMIN_TOKEN": "CHANGE_ME",
    }
    result = CliRunner().invoke(cli, ["serve", "--port", "9"], env=env)
    assert result.exit_code == 2, result.output
    assert "placeholder secrets" in result.output and "CODECNAS_ADMIN_TOKEN" in result.output
    assert not (tmp_path / "codecnas.sqlite").exists(), "it opened the database before refusing"
