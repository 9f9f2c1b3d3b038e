"""Ray worker utilisation and trials per hour with 1 and 2 worker nodes (on this machine).

Each run: a LocalCluster of N nodes with 1 CPU each (the head is one of them), a campaign of
M identical-budget trials launched with `codecnas campaign launch` against it. Utilisation of a
node = sum of its trials' busy time (`trial_seconds`) / the campaign's wall time.

    .venv/bin/python benchmarks/ray_throughput.py --trials 6 --steps 150
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nas.domain import TrialState
from nas.storage.repository import CampaignStore
from tests.conftest import tiny_spec
from workers.local_cluster import LocalCluster


def run(nodes: int, trials: int, steps: int, folder: Path) -> dict[str, object]:
    home = folder / f"nodes-{nodes}"
    # The head runs trials too (1 CPU) and each further node adds 1 CPU: three `ray start`
    # nodes (a CPU-less head + 2 workers) never all joined on this loaded 2-core machine.
    cluster = LocalCluster(worker_nodes=nodes - 1, cpus_per_node=1, head_cpus=1)
    try:
        cluster.start(timeout=300)
        spec = tiny_spec(
            budget={"trials": trials, "parallel": nodes},
            training={"steps": steps, "crop_size": 64, "batch_size": 4},
            cluster={"address": cluster.address},
        )
        spec_path = home / "spec.yaml"
        home.mkdir(parents=True)
        spec_path.write_text(yaml.safe_dump(spec))
        env = dict(cluster.env, CODECNAS_HOME=str(home))
        env.pop("CODECNAS_DATABASE_URL", None)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "codecnas.cli", "campaign", "launch", str(spec_path)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
    finally:
        cluster.stop()
    if result.returncode:
        raise RuntimeError(result.stdout + result.stderr)
    store = CampaignStore(f"sqlite:///{home / 'codecnas.sqlite'}", home / "artifacts")
    done = [t for t in store.trials(store.campaign("tiny").id) if t.state == TrialState.COMPLETE]
    busy: dict[str, float] = defaultdict(float)
    for t in done:
        busy[(t.worker or "?").split()[1]] += t.metrics.get("trial_seconds", 0.0)
    return {
        "nodes": nodes,
        "trials": len(done),
        "wall_s": wall,
        "trials_per_hour": len(done) / wall * 3600,
        "utilisation": {node: seconds / wall for node, seconds in sorted(busy.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "ray_throughput.md"
    )
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for nodes in (1, 2):
            rows.append(run(nodes, args.trials, args.steps, Path(tmp)))
            print(rows[-1], flush=True)
    lines = [
        "# Ray utilisation and throughput, 1 vs 2 nodes running trials (1 CPU each, this machine)",
        "",
        f"`{' '.join(sys.argv)}`: {args.trials} trials of {args.steps} steps (basic space, random "
        "sampler, 64 px crops); wall time includes connecting to Ray and loading images.",
        "",
        "| worker nodes | trials | wall s | trials/hour | busy/wall per node |",
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        util = ", ".join(f"{v:.0%}" for v in r["utilisation"].values())  # type: ignore[union-attr]
        lines.append(
            f"| {r['nodes']} | {r['trials']} | {r['wall_s']:.0f} | "
            f"{r['trials_per_hour']:.0f} | {util} |"
        )
    speedup = rows[1]["trials_per_hour"] / rows[0]["trials_per_hour"]  # type: ignore[operator]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines += [
        "",
        f"Throughput with 2 nodes / 1 node: {speedup:.2f}x. "
        f"Load average at the end (1, 5, 15 min): {load} on {os.cpu_count()} CPUs.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(args.out.read_text())


if __name__ == "__main__":
    main()
