"""A bits-vs-anchor ratio outside the anchor's measured quality range is flagged on every surface:
`codecnas pareto` and `codecnas best`, the dashboard's front, trials, trial and pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from codec.anchor_extrapolation import FOOTNOTE, MARKER
from codecnas.cli import app
from nas.domain import CampaignRecord, TrialRecord
from nas.pareto import compute_front
from nas.spec import parse_spec
from nas.storage import CampaignStore
from tests.dashboard.populate import campaign_spec

runner = CliRunner()
# Two trials, both on the front: a better ratio extrapolated on 4 of 6 images, and a measured one.
FLAGGED_HASH, MEASURED_HASH = "flagged-trial-hash", "measured-trial-hash"


def _trial(
    store: CampaignStore, campaign: CampaignRecord, config_hash: str, ratio: float, ms: float,
    fraction: float,
) -> TrialRecord:  # fmt: skip
    trial = store.start_trial(
        store.create_trial(campaign.id, {"channels": int(ms)}, config_hash).id, worker="test"
    )
    metrics = {
        "quality_ratio_vs_jpeg": ratio,
        "quality_ratio_vs_anchor": ratio,
        "decode_ms_12mp": ms,
        "bpp": 0.8,
        "psnr": 31.0,
        "ms_ssim": 0.95,
        "anchor_extrapolated_fraction": fraction,
        "images": 6.0,
    }
    spec = parse_spec(campaign.spec)
    return store.complete_trial(
        trial.id,
        metrics=metrics,
        per_image={},
        measurements=[],
        artifacts=[],
        objectives={o: metrics[o] for o in spec.objective_names},
        feasible=True,
    )


def _campaign(store: CampaignStore, name: str, flagged: bool) -> list[TrialRecord]:
    spec = parse_spec(campaign_spec(name, 2))
    campaign = store.create_campaign(name, spec.to_json())
    trials = [_trial(store, campaign, MEASURED_HASH, 2.5, 5_000.0, 0.0)]
    if flagged:
        trials.append(_trial(store, campaign, FLAGGED_HASH, 1.85, 10_000.0, 4 / 6))
    update = compute_front(trials, spec.objectives)
    store.replace_front(campaign.id, update.trial_ids, update.hypervolume, update.n_complete)
    return trials


def _cli(database_url: str, *args: str) -> str:
    result = runner.invoke(app, [*args, "--db", database_url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _row(output: str, config_hash: str) -> str:
    return next(line for line in output.splitlines() if config_hash[:12] in line)


def test_pareto_marks_the_extrapolated_ratio_only(
    store: CampaignStore, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODECNAS_HOME", str(tmp_path / "home"))
    _campaign(store, "mixed", flagged=True)
    _campaign(store, "clean", flagged=False)
    mixed = _cli(database_url, "pareto", "mixed")
    assert f"1.850{MARKER}" in _row(mixed, FLAGGED_HASH) and "4/6" in _row(mixed, FLAGGED_HASH)
    assert "2.500" in _row(mixed, MEASURED_HASH) and MARKER not in _row(mixed, MEASURED_HASH)
    assert "extrapolated" in mixed and "extrap." in mixed
    clean = _cli(database_url, "pareto", "clean")
    assert "2.500" in clean and MARKER not in clean and "extrap" not in clean


def test_best_names_the_extrapolation_of_its_choice(
    store: CampaignStore, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODECNAS_HOME", str(tmp_path / "home"))
    _campaign(store, "mixed", flagged=True)
    flagged = _cli(database_url, "best", "mixed", "--decode-ms", "20000")
    assert f"quality_ratio_vs_jpeg = 1.850{MARKER} (extrap. 4/6 images)" in flagged
    assert "outside the anchor's" in flagged.replace("\n", " ")
    measured = _cli(database_url, "best", "mixed", "--decode-ms", "6000")
    assert "quality_ratio_vs_jpeg = 2.500," in measured and "extrap" not in measured


def test_api_flags_extrapolated_ratios_in_front_trials_and_trial(
    store: CampaignStore, client: TestClient
) -> None:
    measured, flagged = _campaign(store, "mixed", flagged=True)
    cid = measured.campaign_id
    front = client.get(f"/api/campaigns/{cid}/front").json()
    notes = dict(zip(front["trial_ids"], front["extrapolated"], strict=True))
    assert front["extrapolated_metric"] == "quality_ratio_vs_jpeg"
    assert notes == {measured.id: None, flagged.id: "extrap. 4/6 images"}
    by_bpp = client.get(f"/api/campaigns/{cid}/front", params={"y": "bpp"}).json()
    assert by_bpp["extrapolated_metric"] is None and by_bpp["extrapolated"] == [None, None]
    detail = client.get(f"/api/trials/{flagged.id}").json()
    assert detail["trial"]["extrapolated"] == {
        "quality_ratio_vs_jpeg": "extrap. 4/6 images",
        "quality_ratio_vs_anchor": "extrap. 4/6 images",
    }
    assert client.get(f"/api/trials/{measured.id}").json()["trial"]["extrapolated"] == {}
    page = client.get(f"/api/campaigns/{cid}/trials").json()
    assert [bool(t["extrapolated"]) for t in page["items"]] == [False, True]
    best = client.get(f"/api/campaigns/{cid}/best", params={"decode_ms": 20_000}).json()
    assert best["trial"]["id"] == flagged.id and best["trial"]["extrapolated"]


def test_pages_carry_the_marker_legend_and_footnote(
    store: CampaignStore, client: TestClient
) -> None:
    measured, flagged = _campaign(store, "mixed", flagged=True)
    campaign = client.get(f"/campaigns/{measured.campaign_id}").text
    footnote = FOOTNOTE.replace("'", "&#39;")
    assert f'data-ratio-marker="{MARKER}"' in campaign
    assert 'class="dot extrapolated"' in campaign and 'id="scatter-footnote"' in campaign
    assert 'id="trials-footnote"' in campaign and footnote in campaign
    trial = client.get(f"/trials/{flagged.id}").text
    assert 'id="metrics-footnote"' in trial and footnote in trial
