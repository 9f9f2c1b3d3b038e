"""A funnel campaign's stages through the API's status route and the CLI's status table."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from rich.console import Console

from codecnas.reports import funnel_table
from dashboard import create_app
from nas.funnel.domain import FunnelStageRecord
from nas.storage.access import Role
from tests.dashboard.conftest import dashboard_settings

STAGES = [
    FunnelStageRecord("screen", 0, 1_000_000, 3_200, 1.3, {"configs_per_second": 7.7e5}),
    FunnelStageRecord("predict", 1, 3_200, 260, 40.2, {"band_ms": [950.0, 1050.0]}),
]


def test_the_status_route_returns_the_stage_rows(store, campaign, tmp_path: Path):
    for stage in STAGES:
        store.record_funnel_stage(campaign.id, stage)
    token = store.create_token("vic", Role.VIEWER)[1]
    with TestClient(create_app(dashboard_settings(tmp_path), store)) as client:
        body = client.get(
            f"/api/campaigns/{campaign.id}/status",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    assert [(s["stage"], s["n_in"], s["n_out"]) for s in body["funnel"]] == [
        ("screen", 1_000_000, 3_200),
        ("predict", 3_200, 260),
    ]
    assert body["funnel"][1]["details"] == {"band_ms": [950.0, 1050.0]}
    assert body["counts"]["sampled"] == 0  # the standard summary is still there


def test_the_status_table_shows_counts_share_and_seconds():
    console = Console(width=120, record=True)
    console.print(funnel_table(STAGES))
    text = console.export_text()
    assert "1,000,000" in text and "3,200" in text and "0.32%" in text and "40.2" in text
