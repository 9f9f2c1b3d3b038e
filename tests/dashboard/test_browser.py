"""End to end in headless Chromium: the campaign page's scatter, budget slider and live data,
a trial's pictures, the compare page, and a blind rating by a logged-in viewer.

Screenshots go to $CODECNAS_SCREENSHOTS (default: the test's temporary folder); the test
prints the folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard import create_app
from nas.selection import best_in_campaign
from nas.storage import CampaignStore
from tests.dashboard.conftest import dashboard_settings
from tests.dashboard.live_server import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.dashboard.populate import add_complete_trial, populate

playwright_api = pytest.importorskip("playwright.sync_api", reason="PyPI playwright not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"no Chromium at {CHROMIUM}: apt-get install -y chromium",
    ),
]
TIMEOUT_MS = 90_000  # the first AVIF encodes of an image take seconds on a busy 2-core machine


@pytest.fixture
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    folder = Path(os.environ.get("CODECNAS_SCREENSHOTS", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    with capsys.disabled():
        print(f"\nbrowser test screenshots: {folder}")
    return folder


def test_campaign_trial_compare_and_rating_pages(
    browser: object, shots: Path, tmp_path: Path, image_cache: Path
) -> None:
    store = CampaignStore(f"sqlite:///{tmp_path / 'browser.sqlite'}", tmp_path / "artifacts")
    try:
        _drive(browser, shots, tmp_path, store, image_cache)
    finally:
        store.close()


def _drive(
    browser: object, shots: Path, tmp_path: Path, store: CampaignStore, image_cache: Path
) -> None:
    watched = populate(store)
    viewer_secret = store.create_token("vic", "viewer")[1]
    cid = watched.campaign.id
    complete = [t for t in watched.trials if t.metrics]
    settings = dashboard_settings(
        tmp_path, poll_seconds=1.0, cache_dir=image_cache, anchor_cache=image_cache
    )
    with LiveServer(create_app(settings, store)) as server:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # No internet: anything not served by the dashboard itself is refused and recorded.
        outside: list[str] = []

        def local_only(route: Any) -> None:
            if route.request.url.startswith(server.url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", local_only)

        # The campaign: one point per complete trial, infeasible ones in their own colour.
        page.goto(f"{server.url}/campaigns/{cid}")
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator("#scatter circle.pt").count() == len(complete)
        infeasible = sum(t.feasible is False for t in complete)
        assert page.locator("#scatter circle.pt.infeasible").count() == infeasible
        assert page.locator("#scatter circle.pt.front").count() == len(store.front(cid))
        assert page.locator("#hypervolume circle.marker").count() == 12
        assert page.locator("[data-stage='front']").inner_text() == str(len(store.front(cid)))
        assert page.locator("#trials tbody tr").count() == 13
        page.screenshot(path=str(shots / "campaign.png"), full_page=True)

        # Live: a trial that completes while the page is open appears within a poll or two.
        added = add_complete_trial(store, watched.campaign, seed=99)
        complete.append(added)
        page.wait_for_function(
            f"document.querySelectorAll('#scatter circle.pt').length === {len(complete)}"
        )
        page.wait_for_function("document.querySelectorAll('#trials tbody tr').length === 14")

        # The budget slider: the highlighted trial is the CLI's answer at every stop.
        slider = page.locator("#budget")
        slider.focus()
        page.keyboard.press("Home")
        answers: list[tuple[int, str | None]] = []
        for presses in (0, 150, 300, 1000):
            for _ in range(presses - (answers[-1][0] if answers else 0)):
                page.keyboard.press("ArrowRight")
            budget = float(slider.get_attribute("data-budget") or "nan")
            chosen = page.locator("#best-answer").get_attribute("data-trial-id")
            expected = best_in_campaign(store, cid, budget)  # as `codecnas best` answers
            assert expected.trial is not None and chosen == str(expected.trial.id), budget
            assert page.locator("#scatter circle.pt.best").count() == 1
            answers.append((presses, chosen))
        # The API is asked too (for the downloads) and agrees.
        page.wait_for_selector(f"#best-downloads[data-api-trial-id='{answers[-1][1]}']")
        assert len({chosen for _, chosen in answers}) >= 2  # the slider changed the answer
        page.screenshot(path=str(shots / "campaign-budget.png"), full_page=True)
        # The slider is named by the axis it bounds, its value given in that axis' unit.
        assert page.locator("#budget-label").inner_text() == "budget on decode 12 MP (ms)"
        assert page.locator("#budget-value").inner_text().endswith(" ms")
        page.select_option("#x-metric", "bpp")
        page.wait_for_selector("#budget-label:has-text('budget on bpp')")
        assert page.locator("#budget-value").inner_text().endswith(" bpp")
        page.select_option("#x-metric", "decode_ms_12mp")

        # Hover shows the config; a click opens the trial with its pictures.
        best = page.locator("#scatter circle.pt.best")
        best.hover()
        page.wait_for_selector("#tooltip:has-text('config:')")
        best.click()
        page.wait_for_url(f"**/trials/{answers[-1][1]}")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_function(
            "document.querySelectorAll('figure.panel[data-loaded=\"1\"]').length === 4"
        )
        titles = page.locator("figure.panel").evaluate_all("fs => fs.map(f => f.dataset.title)")
        assert titles[:2] == ["original", "this trial"]
        assert {t.split()[0] for t in titles[2:]} == {"JPEG", "AVIF"}
        page.wait_for_selector("#rate-quality svg .series.jpeg")
        page.select_option("#zoom", "4")
        page.screenshot(path=str(shots / "trial.png"), full_page=True)

        # Compare two trials: one column each, their reconstructions beside the original.
        a, b = complete[0].id, complete[1].id
        page.goto(f"{server.url}/compare?ids={a},{b}")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_function(
            "document.querySelectorAll('figure.panel[data-loaded=\"1\"]').length === 3"
        )
        assert page.locator("#comparison tr").first.locator("th").count() == 3
        page.screenshot(path=str(shots / "compare.png"), full_page=True)

        # Blind rating after logging in as a viewer: the judgement is stored under her name.
        page.goto(f"{server.url}/login?next=/campaigns/{cid}/rate")
        page.fill("#token", viewer_secret)
        page.click("#login")
        page.wait_for_url(f"**/campaigns/{cid}/rate")
        page.wait_for_function(
            "document.querySelectorAll('figure.panel[data-loaded=\"1\"]').length === 2"
        )
        page.screenshot(path=str(shots / "rate.png"), full_page=True)
        page.keyboard.press("1")
        page.wait_for_selector("#rated:has-text('1 rated')")
        [rating] = store.ratings(cid)
        assert rating.rater == "vic" and rating.outcome == "first" and rating.image == "chelsea"
        page.click("#scores-card summary")  # counts agree with their nouns
        page.wait_for_selector("#scores td.hint:has-text('1 rating by 1 rater')")

        # The API documentation works offline too.
        page.goto(f"{server.url}/docs")
        page.wait_for_selector(".swagger-ui .opblock")
        assert page.locator(".swagger-ui .opblock").count() >= 20
        assert errors == [], errors
        assert outside == [], outside

        # An unknown id: a 404 page that says so (after the console check: the browser logs it).
        response = page.goto(f"{server.url}/trials/999999")
        assert response is not None and response.status == 404
        assert "999999" in page.locator("#not-found").inner_text()


def test_a_funnel_campaign_page_draws_its_stages(browser: object, tmp_path: Path) -> None:
    from nas.funnel.domain import FunnelStageRecord

    store = CampaignStore(f"sqlite:///{tmp_path / 'funnel.sqlite'}", tmp_path / "artifacts")
    try:
        cid = populate(store).campaign.id
        stages = [("screen", 1_000_000, 3_180), ("predict", 3_180, 562), ("measure", 562, 6)]
        for position, (name, n_in, n_out) in enumerate(stages):
            store.record_funnel_stage(cid, FunnelStageRecord(name, position, n_in, n_out, 1.5, {}))
        with LiveServer(create_app(dashboard_settings(tmp_path), store)) as server:
            page = browser.new_page()  # type: ignore[attr-defined]
            page.goto(f"{server.url}/campaigns/{cid}")
            screen = page.locator("[data-stage='screen']")
            screen.wait_for(timeout=TIMEOUT_MS)
            assert screen.inner_text() == "1,000,000 → 3,180 (1.5 s)"
            assert page.locator("#funnel .funnel-row").count() == len(stages)
    finally:
        store.close()
