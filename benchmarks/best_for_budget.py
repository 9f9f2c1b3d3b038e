"""Best-for-budget latency at 1,000,000 stored trials: in-process, and through the real API
under concurrent clients on loopback.

The campaign is bulk-inserted (executemany in batches; configs are tiny placeholders, since the
query never reads them), its Pareto front computed once with an O(n log n) sweep and stored.
Then: `best_in_campaign` called in-process, and `GET /api/campaigns/{id}/best?decode_ms=...`
against `codecnas serve` in its own process, from C concurrent httpx clients.

    nice -n 10 .venv/bin/python benchmarks/best_for_budget.py --trials 1000000 --clients 16
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.prefill import _spec
from nas.domain import TrialState
from nas.selection import best_in_campaign
from nas.storage.repository import CampaignStore
from nas.storage.schema import Trial, TrialMetric
from tests.dashboard.live_server import free_port

BATCH = 20_000


def bulk_campaign(store: CampaignStore, n: int, seed: int = 0) -> int:
    """A campaign of ``n`` complete trials (quality, decode ms) and its stored front."""
    campaign = store.create_campaign(f"best-{n}", _spec("basic", n))
    rng = np.random.default_rng(seed)
    quality = rng.uniform(0.5, 3.0, n)
    decode = rng.uniform(50, 9e4, n)
    now = dt.datetime.now(dt.UTC)
    ids = np.empty(n, dtype=np.int64)
    with store._db.engine.begin() as connection:  # one transaction: bulk, not per-row commits
        for start in range(0, n, BATCH):
            stop = min(n, start + BATCH)
            rows = [
                {
                    "campaign_id": campaign.id,
                    "number": i,
                    "config": {"i": i},
                    "config_hash": f"h{i}",
                    "state": TrialState.COMPLETE,
                    "attempts": 1,
                    "objectives": {
                        "quality_ratio_vs_jpeg": float(quality[i]),
                        "decode_ms_12mp": float(decode[i]),
                    },
                    "feasible": True,
                    "created_at": now,
                }
                for i in range(start, stop)
            ]
            ids[start:stop] = (
                connection.execute(insert(Trial).returning(Trial.id), rows).scalars().all()
            )
            metrics = [
                {"trial_id": int(ids[i]), "name": name, "value": float(values[i])}
                for i in range(start, stop)
                for name, values in (("quality_ratio_vs_jpeg", quality), ("decode_ms_12mp", decode))
            ]
            connection.execute(insert(TrialMetric), metrics)
    # Both minimised: sort by decode time, keep each trial better than all faster ones.
    order = np.lexsort((quality, decode))
    best_so_far = np.minimum.accumulate(quality[order])
    on_front = np.r_[True, quality[order][1:] < best_so_far[:-1]]
    front_ids = [int(ids[i]) for i in order[on_front]]
    store.replace_front(campaign.id, front_ids, 0.0, n)
    return campaign.id


def percentiles(samples: list[float]) -> tuple[float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49] * 1e3, qs[98] * 1e3


def in_process(store: CampaignStore, campaign_id: int, calls: int) -> tuple[float, float]:
    rng = random.Random(1)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        best_in_campaign(store, campaign_id, rng.uniform(50, 2000))
        times.append(time.perf_counter() - start)
    return percentiles(times)


def serve(url: str, home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CODECNAS_HOME": str(home), "CODECNAS_PROFILE": "local"}
    command = [sys.executable, "-m", "codecnas.cli", "serve", "--db", url, "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/campaigns", timeout=2)
            return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError(
        f"codecnas serve did not start: {server.stderr.read().decode() if server.stderr else ''}"
    )


def under_load(
    port: int, campaign_id: int, clients: int, per_client: int
) -> tuple[float, float, float]:
    times: list[float] = []
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        mine = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for _ in range(per_client):
                start = time.perf_counter()
                response = http.get(
                    f"/api/campaigns/{campaign_id}/best",
                    params={"decode_ms": rng.uniform(50, 2000)},
                )
                mine.append(time.perf_counter() - start)
                response.raise_for_status()
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    p50, p99 = percentiles(times)
    return p50, p99, len(times) / wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=25, help="per client")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "best_for_budget.md"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'best.sqlite'}"
        with CampaignStore(url, Path(tmp) / "artifacts") as store:
            start = time.perf_counter()
            campaign_id = bulk_campaign(store, args.trials)
            fill = time.perf_counter() - start
            front = len(store.front(campaign_id))
            local = in_process(store, campaign_id, 200)
        port = free_port()
        server = serve(url, Path(tmp), port)
        try:
            single = under_load(port, campaign_id, 1, 50)
            loaded = under_load(port, campaign_id, args.clients, args.requests)
        finally:
            server.terminate()
            server.wait(timeout=30)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"`{' '.join(sys.argv)}` (SQLite; `codecnas serve` in its own process, uvicorn, 1 worker). "
        f"Load average at the end (1, 5, 15 min): {load} on {os.cpu_count()} CPUs.",
        "",
        f"Bulk insert of {args.trials:,} trials (+{2 * args.trials:,} metric rows): {fill:.0f} s; "
        f"front: {front} trials.",
        "",
        "| best-for-budget | p50 ms | p99 ms | requests/s |",
        "| --- | ---: | ---: | ---: |",
        f"| in-process `best_in_campaign` (200 calls) | {local[0]:.1f} | {local[1]:.1f} | - |",
        f"| API, 1 client (50 requests) | {single[0]:.1f} | {single[1]:.1f} | {single[2]:.0f} |",
        f"| API, {args.clients} concurrent clients ({args.clients * args.requests} requests) "
        f"| {loaded[0]:.1f} | {loaded[1]:.1f} | {loaded[2]:.0f} |",
    ]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
