"""`codecnas token create|list|revoke` and the settings `codecnas serve` builds."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from codecnas.serve_commands import dashboard_settings, token_app
from codecnas.settings import Settings
from nas.storage import CampaignStore


def test_token_create_prints_a_secret_that_authenticates_and_can_be_revoked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODECNAS_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    runner = CliRunner()
    made = runner.invoke(
        token_app, ["create", "--role", "viewer", "--name", "rater-1", "--db", url]
    )
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    with CampaignStore(url, tmp_path / "artifacts") as store:
        token = store.authenticate(secret)
        assert token is not None and (token.name, token.role.value) == ("rater-1", "viewer")
    listed = runner.invoke(token_app, ["list", "--db", url])
    assert "rater-1" in listed.output and secret not in listed.output
    assert runner.invoke(token_app, ["revoke", str(token.id), "--db", url]).exit_code == 0
    with CampaignStore(url, tmp_path / "artifacts") as store:
        assert store.authenticate(secret) is None
    wrong = runner.invoke(token_app, ["create", "--role", "root", "--db", url])
    assert wrong.exit_code != 0 and "root" in wrong.output


def test_serve_keeps_its_caches_beside_the_campaigns(tmp_path: Path) -> None:
    settings = Settings(tmp_path, "sqlite://", tmp_path / "artifacts", tmp_path / "anchors")
    built = dashboard_settings(settings, read_requires_token=True, poll_seconds=2.0)
    assert built.cache_dir == tmp_path / "artifacts" / "dashboard-cache"
    assert built.anchor_cache == tmp_path / "anchors" and built.read_requires_token
    assert built.campaign_env["CODECNAS_ARTIFACTS"] == str(tmp_path / "artifacts")
    assert built.campaign_command[-3:] == ("codecnas.cli", "campaign", "resume")
