"""The trial page says, in one line, what the trial's weights started from (headless Chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import create_app
from nas.spec import parse_spec
from nas.storage import CampaignStore
from tests.conftest import tiny_spec
from tests.dashboard.conftest import dashboard_settings
from tests.dashboard.live_server import CHROMIUM, CHROMIUM_ARGS, LiveServer

playwright_api = pytest.importorskip("playwright.sync_api", reason="PyPI playwright not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]

FROM_TRIAL = {"kind": "trial", "trial_number": 3, "config_hash": "a1b2c3d4" * 8, "fraction": 0.87}


def _trial(store: CampaignStore, campaign_id: int, n: int, initialisation: dict | None) -> int:
    trial = store.start_trial(store.create_trial(campaign_id, {"n": n}, f"h{n}").id)
    metrics = {"quality_ratio_vs_jpeg": 1.5, "decode_ms_12mp": 900.0, "bpp": 0.5, "psnr": 30.0}
    store.complete_trial(
        trial.id,
        metrics=metrics,
        per_image={},
        measurements=[],
        artifacts=[],
        objectives={"quality_ratio_vs_jpeg": 1.5, "decode_ms_12mp": 900.0},
        feasible=True,
        initialisation=initialisation,
    )
    return trial.id


def test_the_trial_page_names_the_source_of_its_weights(tmp_path: Path) -> None:
    store = CampaignStore(f"sqlite:///{tmp_path / 'page.sqlite'}", tmp_path / "artifacts")
    spec = parse_spec(tiny_spec())
    campaign = store.create_campaign(spec.name, spec.to_json())
    inherited = _trial(store, campaign.id, 0, FROM_TRIAL)
    fresh = _trial(store, campaign.id, 1, {"kind": "scratch"})
    unknown = _trial(store, campaign.id, 2, None)
    expected = {
        inherited: "Initialised from trial 3 (a1b2c3d4…), 87% of parameters",
        fresh: "From scratch",
        unknown: "",
    }
    try:
        with (
            playwright_api.sync_playwright() as pw,
            LiveServer(create_app(dashboard_settings(tmp_path), store)) as server,
        ):
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.set_default_timeout(60_000)
            for trial_id, line in expected.items():
                page.goto(f"{server.url}/trials/{trial_id}")
                page.wait_for_selector("body[data-ready='1']")
                assert page.locator("#initialised-from").inner_text() == line
            browser.close()
    finally:
        store.close()
