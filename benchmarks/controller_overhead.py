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
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.prefill import prefill_campaign, prefill_optuna_study
from nas.controller import Controller, ControllerEvent
from nas.domain import TrialJob, TrialOutcome
from nas.executor import InProcessExecutor
from nas.samplers import AskTellSampler, distributions
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


class SamplerClock:
    """Time spent inside AskTellSampler.ask/tell while the controller runs (not its replay)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> SamplerClock:
        self._saved = (AskTellSampler.ask, AskTellSampler.tell)
        for name, method in zip(("ask", "tell"), self._saved, strict=True):
            setattr(AskTellSampler, name, self._timed(method))
        return self

    def _timed(self, method: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return timed

    def __exit__(self, *exc: object) -> None:
        AskTellSampler.ask, AskTellSampler.tell = self._saved  # type: ignore[method-assign]


def time_controller(n: int, k: int, folder: Path, space: str) -> tuple[float, float, float]:
    """(seconds per trial, of which in the sampler, start-up seconds)."""
    store = CampaignStore(f"sqlite:///{folder / f'ours-{n}.sqlite'}", folder / "artifacts")
    campaign_id = prefill_campaign(store, n, budget=n + k, space=space)
    executor = InProcessExecutor(_instant, capacity=1)
    marks: list[float] = []

    def on_event(event: ControllerEvent) -> None:
        if event.kind == "finished":
            marks.append(time.perf_counter())

    start = time.perf_counter()
    with SamplerClock() as clock:
        Controller(store, campaign_id, executor, on_event=on_event).run()
    store.close()
    # Start-up (replaying N trials into the sampler, loading the front) until the first result;
    # then the mean time between consecutive results is the controller's overhead per trial.
    startup = marks[0] - start
    # The median gap between results: the machine is shared, and a mean would count every
    # moment another job took the CPU.
    per_trial = statistics.median(b - a for a, b in itertools.pairwise(marks))
    return per_trial, clock.seconds / max(1, len(marks)), startup


def time_optuna(n: int, k: int, folder: Path, space_name: str) -> float:
    space = get_space(space_name)
    dists = distributions(space)
    rng = random.Random(0)
    study = prefill_optuna_study(
        f"sqlite:///{folder / f'optuna-{n}.sqlite'}",
        n,
        ["minimize", "minimize"],
        dists,
        optuna.samplers.NSGAIISampler(population_size=8, seed=0),
        space_name,
    )
    gaps = []
    for _ in range(k):
        start = time.perf_counter()
        trial = study.ask(dists)
        study.tell(trial, [rng.uniform(0.5, 3), rng.uniform(50, 9e4)])
        gaps.append(time.perf_counter() - start)
    return statistics.median(gaps)


def optuna_rounds(at_1k: int, n: int) -> int:
    return max(1, at_1k * 1000 // max(n, 1000))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--trials", type=int, default=100, help="trials timed per size")
    parser.add_argument(
        "--optuna-trials",
        type=int,
        default=20,
        help="ask/tell rounds timed for Optuna at 1k trials; fewer (>= 1) as N grows, since "
        "each of its asks re-reads every stored trial",
    )
    parser.add_argument("--space", default="pico", help="search space of the configs")
    parser.add_argument("--optuna-max", type=int, default=100000, help="largest N for Optuna")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "controller_overhead.md"
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            ours, sampler, startup = time_controller(n, args.trials, Path(tmp), args.space)
            print(
                n,
                f"ours {ours * 1e3:.2f} ms (sampler {sampler * 1e3:.2f}), start-up {startup:.1f} s",
                flush=True,
            )
            theirs = (
                time_optuna(n, optuna_rounds(args.optuna_trials, n), Path(tmp), args.space)
                if n <= args.optuna_max
                else None
            )
            rows.append((n, ours, sampler, startup, theirs))
            print(
                n,
                f"ours {ours * 1e3:.2f} ms",
                f"optuna {theirs * 1e3:.2f} ms" if theirs else "",
                flush=True,
            )
    lines = [
        f"# Controller overhead per trial (SQLite, NSGA-II, `{args.space}` space)",
        "",
        f"`{' '.join(sys.argv)}` — {args.trials} trials timed (Optuna: {args.optuna_trials}) "
        "after bulk pre-filling N finished trials;",
        "ours = claim/create with lease + sampler ask/tell + complete + incremental "
        "front/hypervolume stored; both: median time per trial.",
        "Optuna = ask + tell on RDBStorage (SQLite) with NSGAIISampler(population_size=8).",
        f"Load average at the end (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
        f"on {os.cpu_count()} CPUs.",
        "",
        "| stored trials | codecnas ms/trial | of which sampler ms | codecnas start-up s "
        "| Optuna RDB ms/trial | ratio |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, ours, sampler, startup, theirs in rows:
        t = f"{theirs * 1e3:.1f}" if theirs else "not run"
        r = f"{theirs / ours:.1f}x" if theirs else "-"
        lines.append(
            f"| {n:,} | {ours * 1e3:.2f} | {sampler * 1e3:.2f} | {startup:.1f} | {t} | {r} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(args.out.read_text())


if __name__ == "__main__":
    main()
