"""Inheritance against scratch at equal budget: two small campaigns, one table.

Both campaigns are the demo's (pico space, its MACs screen and fixed knobs, its data), with the
`random` sampler and one seed, so they train the *same* configs in the same order: the only
difference is `training.init` (`scratch` or `nearest`). Every trial trains the same number of
steps on the same threads, one trial at a time (in-process, as the controller drives Ray).

Decoder latency does not depend on the weights, but it is measured on a shared machine: each
config's `decode_ms_12mp` is taken as the mean of its two measurements (one per campaign) before
the fronts are compared, so load changing between the runs favours neither. The hypervolume
each campaign stored as it ran is shown too.

    nice .venv/bin/python -m benchmarks.inheritance   # writes benchmarks/results/inheritance.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from nas.controller import Controller, ControllerEvent
from nas.domain import TrialRecord, TrialState
from nas.executor import InProcessExecutor
from nas.pareto import compute_front
from nas.spec import CampaignSpec, parse_spec
from nas.storage.repository import CampaignStore
from workers.trial_pipeline import run_trial

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "codecnas" / "examples" / "demo.yaml"
RESULTS = REPO / "benchmarks" / "results" / "inheritance.md"
QUALITY, LATENCY = "quality_ratio_vs_jpeg", "decode_ms_12mp"


@dataclass(frozen=True)
class Run:
    init: str
    spec: CampaignSpec
    trials: list[TrialRecord]
    stored_hypervolume: float
    seconds: float


def campaign_spec(init: str, trials: int, steps: int, seed: int) -> CampaignSpec:
    spec = yaml.safe_load(DEMO.read_text())
    spec["name"] = f"inheritance-{init}"
    spec["sampler"] = {"kind": "random", "seed": seed}
    spec["budget"] = {"trials": trials, "parallel": 1, "max_attempts": 1}
    spec["training"].update(steps=steps, init=init)
    # The demo's band (2.5 / 4 kMACs/px) holds no pico config any more since levels with
    # block-wise resampling keep a block: a band twice as wide, 3 stages and GDN (which trains
    # small codecs fastest, DESIGN.md) keep trials CPU-sized.
    spec["fixed"].update(stages=3, activation="gdn")
    spec["screen"] = {"decoder_kmacs_max": 8, "encoder_kmacs_max": 12}
    spec["benchmark"].update(tile=256, runs=3)
    spec["cluster"] = {"cpus_per_trial": 2}
    return parse_spec(spec)


def run_campaign(folder: Path, spec: CampaignSpec) -> Run:
    store = CampaignStore(f"sqlite:///{folder / f'{spec.name}.sqlite'}", folder / "artifacts")
    try:
        campaign = store.create_campaign(spec.name, spec.to_json())
        started = time.perf_counter()

        def report(event: ControllerEvent) -> None:
            trial = event.trial
            if event.kind == "finished":
                init = (trial.initialisation or {}).get("kind", "?")
                ratio = trial.metrics.get(QUALITY, float("nan"))
                print(f"  {spec.name} trial {trial.number}: {QUALITY} {ratio:.3f} ({init})")

        Controller(store, campaign.id, InProcessExecutor(run_trial), on_event=report).run()
        seconds = time.perf_counter() - started
        history = store.hypervolume_history(campaign.id)
        hypervolume = history[-1].hypervolume if history else 0.0
        return Run(spec.training.init, spec, store.trials(campaign.id), hypervolume, seconds)
    finally:
        store.close()


def shared_latency(runs: list[Run]) -> dict[str, float]:
    """Each config's decoder latency: the mean over the campaigns that measured it."""
    seen: dict[str, list[float]] = {}
    for run in runs:
        for t in run.trials:
            if t.state == TrialState.COMPLETE and LATENCY in t.metrics:
                seen.setdefault(t.config_hash, []).append(t.metrics[LATENCY])
    return {h: statistics.fmean(values) for h, values in seen.items()}


def with_latency(trials: list[TrialRecord], latency: dict[str, float]) -> list[TrialRecord]:
    fixed = []
    for t in trials:
        ms = latency.get(t.config_hash)
        if t.objectives is None or ms is None:
            fixed.append(t)
            continue
        objectives, metrics = {**t.objectives, LATENCY: ms}, {**t.metrics, LATENCY: ms}
        fixed.append(replace(t, objectives=objectives, metrics=metrics))
    return fixed


def row(run: Run, latency: dict[str, float]) -> list[str]:
    trials = with_latency(run.trials, latency)
    front = compute_front(trials, run.spec.objectives)
    members = [t for t in trials if t.id in set(front.trial_ids)]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    ratios = [t.metrics[QUALITY] for t in complete if QUALITY in t.metrics]
    fractions = [
        float(t.initialisation["fraction"])
        for t in complete
        if t.initialisation and "fraction" in t.initialisation
    ]
    front_ratio = [t.metrics[QUALITY] for t in members]
    front_ms = [t.metrics[LATENCY] for t in members]
    spread = (
        f"{min(front_ratio):.2f}-{max(front_ratio):.2f} / {min(front_ms):.0f}-{max(front_ms):.0f}"
        if members
        else "-"
    )
    inherited = f"{len(fractions)} ({statistics.fmean(fractions):.0%})" if fractions else "0"
    return [
        run.init,
        f"{len(complete)}/{len(trials)}",
        inherited,
        f"{front.hypervolume:.4g}",
        f"{run.stored_hypervolume:.4g}",
        f"{min(ratios):.3f}" if ratios else "-",
        f"{statistics.median(ratios):.3f}" if ratios else "-",
        f"{len(members)}",
        spread,
        f"{run.seconds / 60:.1f}",
    ]


HEADER = [
    "init",
    "complete",
    "trials inherited (mean fraction)",
    "front hypervolume",
    "stored hypervolume",
    f"best {QUALITY}",
    f"median {QUALITY}",
    "front size",
    f"front spread ({QUALITY} / {LATENCY})",
    "minutes",
]


def paired(runs: list[Run]) -> str:
    """The same configs' quality ratio, inherited vs scratch (config by config)."""
    scratch = {t.config_hash: t.metrics[QUALITY] for t in runs[0].trials if QUALITY in t.metrics}
    pairs = [
        (scratch[t.config_hash], t.metrics[QUALITY])
        for t in runs[1].trials
        if QUALITY in t.metrics and t.config_hash in scratch
    ]
    if not pairs:
        return "no config completed in both campaigns"
    better = sum(b < a for a, b in pairs)
    ratio = statistics.geometric_mean([b / a for a, b in pairs])
    return (
        f"{len(pairs)} configs trained in both campaigns: inherited weights gave a lower "
        f"{QUALITY} (fewer bits than JPEG) for {better} of them; geometric mean of "
        f"inherited/scratch {QUALITY}: {ratio:.3f}"
    )


def write_table(runs: list[Run], args: argparse.Namespace, load: str) -> str:
    latency = shared_latency(runs)
    lines = [
        "# Inheritance vs scratch at equal training budget",
        "",
        f"`nice .venv/bin/python -m benchmarks.inheritance --trials {args.trials} --steps "
        f"{args.steps} --seed {args.seed}`: the demo campaign (pico space; fixed: 3 stages, GDN, "
        "no variable rate; MACs band: decoder <= 8, encoder <= 12 kMACs/px), "
        f"`random` sampler seed {args.seed} (both campaigns train the same configs in the same "
        f"order), {args.trials} trials of {args.steps} steps each, one at a time on 2 threads. "
        "Only `training.init` differs. Front and hypervolume use each config's decoder latency "
        "averaged over both campaigns (latency does not depend on the weights); the stored "
        "hypervolume is what each campaign recorded with its own measurements. Hypervolume "
        "reference: the demo's (ratio 60, 90,000 ms). Lower ratio is better.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *("| " + " | ".join(row(run, latency)) + " |" for run in runs),
        "",
        paired(runs) + ".",
        "",
        f"Both campaigns took {sum(run.seconds for run in runs) / 60:.1f} minutes in all.",
        "",
        f"Machine load (`uptime`) before: {load.strip()}",
        f"Machine load (`uptime`) after: {_uptime().strip()}",
        "",
    ]
    return "\n".join(lines)


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    load = _uptime()
    with tempfile.TemporaryDirectory(prefix="inheritance-") as tmp:
        folder = Path(tmp)
        os.environ.setdefault("CODECNAS_ANCHOR_CACHE", str(folder / "anchors"))
        runs = [
            run_campaign(folder, campaign_spec(init, args.trials, args.steps, args.seed))
            for init in ("scratch", "nearest")
        ]
    text = write_table(runs, args, load)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
