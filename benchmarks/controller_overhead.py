"""Controller overhead per trial vs Optuna's RDB storage, as stored trials grow.

For each size N: a SQLite campaign pre-filled with N finished trials, then K more trials run
through the real controller (sampler ask, create, start, complete with metrics, incremental
Pareto front + hypervolume stored) with an executor that returns instantly, so what is timed is
the controller and its database work. Optuna: a study on RDB storage (SQLite, same engine) with
the same NSGA-II sampler, pre-filled with N trials, doing K ask/tell pairs.

    .venv/bin/python benchmarks/controller_overhead.py --sizes 1000 10000 100000 --optuna-max 10000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.prefill import prefill_campaign, random_config
from nas.controller import Controller, ControllerEvent
from nas.domain import TrialJob, TrialOutcome
from nas.executor import InProcessExecutor
from nas.samplers import distributions
from nas.storage.repository import CampaignStore
from search_spaces import get_space

optuna.logging.set_verbosity(optuna.logging.ERROR)


def _instant(job: TrialJob) -> TrialOutcome:
    rng = random.Random(job.trial_id)
    return TrialOutcome(
        trial_id=job.trial_id,
        ok=True,
        metrics={
            "quality_ratio_vs_jpeg": rng.uniform(0.5, 3),
            "decode_ms_12mp": rng.uniform(50, 9e4),
        },
    )


def time_controller(n: int, k: int, folder: Path) -> tuple[float, float]:
    store = CampaignStore(f"sqlite:///{folder / f'ours-{n}.sqlite'}", folder / "artifacts")
    campaign_id = prefill_campaign(store, n, budget=n + k)
    executor = InProcessExecutor(_instant, capacity=1)
    marks: list[float] = []

    def on_event(event: ControllerEvent) -> None:
        if event.kind == "finished":
            marks.append(time.perf_counter())

    start = time.perf_counter()
    Controller(store, campaign_id, executor, on_event=on_event).run()
    store.close()
    # Start-up (replaying N trials into the sampler, loading the front) until the first result;
    # then the mean time between consecutive results is the controller's overhead per trial.
    startup = marks[0] - start
    return (marks[-1] - marks[0]) / max(1, len(marks) - 1), startup


def time_optuna(n: int, k: int, folder: Path) -> float:
    space = get_space("basic")
    dists = distributions(space)
    rng = random.Random(0)
    storage = optuna.storages.RDBStorage(f"sqlite:///{folder / f'optuna-{n}.sqlite'}")
    study = optuna.create_study(
        storage=storage,
        directions=["minimize", "minimize"],
        sampler=optuna.samplers.NSGAIISampler(population_size=8, seed=0),
    )
    study.add_trials(
        optuna.trial.create_trial(
            params=random_config(rng),
            distributions=dists,
            values=[rng.uniform(0.5, 3), rng.uniform(50, 9e4)],
        )
        for _ in range(n)
    )
    start = time.perf_counter()
    for _ in range(k):
        trial = study.ask(dists)
        study.tell(trial, [rng.uniform(0.5, 3), rng.uniform(50, 9e4)])
    return (time.perf_counter() - start) / k


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--trials", type=int, default=100, help="trials timed per size")
    parser.add_argument("--optuna-max", type=int, default=10000, help="largest N for Optuna")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "controller_overhead.md"
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            ours, startup = time_controller(n, args.trials, Path(tmp))
            theirs = time_optuna(n, args.trials, Path(tmp)) if n <= args.optuna_max else None
            rows.append((n, ours, startup, theirs))
            print(n, f"ours {ours * 1e3:.2f} ms", f"optuna {theirs * 1e3:.2f} ms" if theirs else "")
    lines = [
        "# Controller overhead per trial (SQLite, NSGA-II)",
        "",
        f"`{' '.join(sys.argv)}` — {args.trials} trials timed after pre-filling N finished trials;",
        "ours = ask + create + start + complete + incremental front/hypervolume stored;",
        "Optuna = ask + tell on RDBStorage (SQLite) with NSGAIISampler(population_size=8).",
        "",
        "| stored trials | codecnas ms/trial | codecnas start-up s | Optuna RDB ms/trial | ratio |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, ours, startup, theirs in rows:
        t = f"{theirs * 1e3:.1f}" if theirs else "not run"
        r = f"{theirs / ours:.1f}x" if theirs else "-"
        lines.append(f"| {n:,} | {ours * 1e3:.2f} | {startup:.1f} | {t} | {r} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(args.out.read_text())


if __name__ == "__main__":
    main()
