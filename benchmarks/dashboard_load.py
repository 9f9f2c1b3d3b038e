"""Dashboard load time with 10,000 trials in one campaign.

Writes a campaign of N synthetic complete trials through the storage API (SQLite, the default
database), serves the dashboard with uvicorn on loopback, and measures:

- the API calls behind the campaign page, timed from the client (median of several calls);
- the campaign page in headless Chromium, from navigation until the scatter (one SVG point per
  trial), the hypervolume chart and the first page of the trials table are drawn
  (``body[data-ready]``), median of several loads; and the trial page.

Run from the repository root (PYTHONPATH=. when the package is not installed):

    .venv/bin/python benchmarks/dashboard_load.py --trials 10000
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard import create_app
from nas.storage import CampaignStore
from tests.dashboard.conftest import dashboard_settings
from tests.dashboard.live_server import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.dashboard.populate import populate


def _median_ms(client: httpx.Client, url: str, repeats: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
        size = len(response.content)
    return statistics.median(times), size


def _page_loads(url: str, repeats: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            start = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            times.append((time.perf_counter() - start) * 1000)
            page.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/dashboard_load.md"))
    parser.add_argument(
        "--reuse", type=Path, help="folder of an earlier run: measure its database again"
    )
    args = parser.parse_args()

    folder = args.reuse or Path(tempfile.mkdtemp(prefix="dashboard-load-"))
    store = CampaignStore(f"sqlite:///{folder / 'load.sqlite'}", folder / "artifacts")
    start = time.perf_counter()
    if args.reuse:
        campaign = store.campaign("load")
        trial_id = store.trial_page(campaign.id, limit=1).trials[0].id
    else:
        campaign = populate(
            store,
            name="load",
            n_trials=args.trials,
            n_failed=args.trials // 50,
            n_with_images=5,
            front_every=max(1, args.trials // 500),
        ).campaign
        trial_id = store.trial_page(campaign.id, limit=1).trials[0].id
    fill_s = time.perf_counter() - start
    print(f"database in {folder} ({fill_s:.0f} s)", flush=True)
    cid = campaign.id
    rows: list[tuple[str, float, int]] = []
    with LiveServer(create_app(dashboard_settings(folder), store)) as server:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            client.get(f"/api/trials/{trial_id}/images/chelsea")  # warm the anchor cache
            for label, url in [
                ("status (funnel counts)", f"/api/campaigns/{cid}/status"),
                ("campaign detail", f"/api/campaigns/{cid}"),
                (f"front: all {args.trials} points", f"/api/campaigns/{cid}/front"),
                ("front on a device", f"/api/campaigns/{cid}/front?device=iphone-16-pro"),
                (
                    "hypervolume (thinned to 500)",
                    f"/api/campaigns/{cid}/hypervolume?max_points=500",
                ),
                ("trials page 1 by number", f"/api/campaigns/{cid}/trials?limit=50"),
                (
                    "trials page 100 by ratio desc",
                    f"/api/campaigns/{cid}/trials?limit=50&offset=4950&sort=quality_ratio_vs_jpeg&order=desc",
                ),
                (
                    "trials feasible by decode ms",
                    f"/api/campaigns/{cid}/trials?limit=50&feasible=true&sort=decode_ms_12mp",
                ),
                ("best for budget (20 s)", f"/api/campaigns/{cid}/best?decode_ms=20000"),
                ("one trial", f"/api/trials/{trial_id}"),
            ]:
                median, size = _median_ms(client, url, args.repeats)
                rows.append((label, median, size))
        browser_rows = []
        if Path(CHROMIUM).exists():
            campaign_loads = _page_loads(f"{server.url}/campaigns/{cid}", args.repeats)
            trial_loads = _page_loads(f"{server.url}/trials/{trial_id}", 3)
            browser_rows = [("campaign page", campaign_loads), ("trial page", trial_loads)]
    store.close()

    lines = [
        f"# Dashboard load time with {args.trials:,} trials",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.node()}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SQLite (WAL), uvicorn on loopback, "
        "headless Chromium. "
        "The machine was shared with other work while measuring: figures are upper bounds.",
        "",
        f"Campaign: {args.trials:,} complete trials + {args.trials // 50} failed, 2 devices, "
        f"hypervolume recorded every {max(1, args.trials // 500)} trials; "
        "written through the storage API "
        + ("(database reused from an earlier run)." if args.reuse else f"in {fill_s:.0f} s."),
        "",
        "## Pages in the browser",
        "",
        "From navigation until the scatter (one SVG point per trial), the hypervolume chart and "
        "the first page of the trials table are drawn; the trial page until its tables and "
        "side-by-side viewer are set up (the pictures may still be loading).",
        "",
        "| page | median ms | all loads (ms) |",
        "| --- | ---: | --- |",
    ]
    for label, loads in browser_rows:
        every = ", ".join(f"{t:.0f}" for t in loads)
        lines.append(f"| {label} | {statistics.median(loads):.0f} | {every} |")
    if not browser_rows:
        lines.append(f"| (no Chromium at {CHROMIUM}) | | |")
    lines += [
        "",
        f"## API calls (median of {args.repeats}, client-side)",
        "",
        "| call | ms | bytes |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {label} | {ms:.1f} | {size:,} |" for label, ms, size in rows]
    lines += [
        "",
        "Reproduce: `PYTHONPATH=. .venv/bin/python benchmarks/dashboard_load.py --trials 10000`",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
