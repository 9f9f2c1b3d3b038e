"""The PICO funnel on this machine: how many pico configs each stage screened, and how long it took.

Runs codecnas/examples/funnel.yaml (1,000,000 pico configs) through the real wiring: vectorised
sampling and MACs band, the batch latency model bootstrapped on real measurements, an ONNX
Runtime agent in-process (bench job queue), Ray for the proxy and full training. The expensive
stages can be shrunk from the command line (and the results file says so):

    nice -n 10 .venv/bin/python benchmarks/funnel_screen.py
    nice -n 10 .venv/bin/python benchmarks/funnel_screen.py --measure 20 --proxy 4 --full-steps 100
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from codecnas.funnel_running import run_funnel  # noqa: E402
from nas.funnel.domain import FunnelStageRecord  # noqa: E402
from nas.spec import parse_spec  # noqa: E402
from nas.storage.repository import CampaignStore  # noqa: E402

EXAMPLE = ROOT / "codecnas" / "examples" / "funnel.yaml"
RESULTS = ROOT / "benchmarks" / "results" / "funnel.md"
NOTES = [
    "How to read it:",
    "",
    "- screen and predict run over every config (vectorised MACs; the batch latency model);",
    "  predict's time is mostly its bootstrap: 20 decoders exported to ONNX and measured.",
    "- measure: `configs in` is the predicted-in-band pool; 40 of them were measured in rounds",
    "  of 10, each round where the model's relative std is highest (active learning), the",
    "  model refitted on every measurement after each round; `out` are those truly in band.",
    "  PICO measured 10k on the phone and kept ~1,000 of them (10%).",
    "- proxy and full are run SMALL here (60 and 300 steps on 64 px crops, a few CPU-minutes):",
    "  they show the machinery, not a good codec. PICO trained with MSE for 30% of the epochs,",
    "  then fully with perceptual losses.",
    "- trials take their decoder latency (decode_ms_12mp) from the agent's measurement of their",
    "  config; the worker's own timing is kept as decode_ms_12mp_worker.",
    "",
]


def _spec(args: argparse.Namespace) -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text())
    funnel = data["funnel"]
    funnel["configs"] = args.configs
    if args.measure is not None:
        funnel["measure"]["configs"] = args.measure
        funnel["measure"]["batch"] = min(funnel["measure"]["batch"], args.measure)
    if args.proxy is not None:
        funnel["proxy"]["configs"] = args.proxy
        funnel["proxy"]["keep"] = min(funnel["proxy"]["keep"], args.proxy)
        data["budget"]["trials"] = funnel["proxy"]["configs"] + funnel["proxy"]["keep"]
    if args.full_steps is not None:
        funnel["full"]["steps"] = args.full_steps
    return data


def _row(stage: FunnelStageRecord) -> str:
    kept = f"{stage.n_out / stage.n_in:.2%}" if stage.n_in else "-"
    return f"| {stage.stage} | {stage.n_in:,} | {stage.n_out:,} | {kept} | {stage.seconds:.1f} |"


def _stage_notes(stages: list[FunnelStageRecord]) -> list[str]:
    notes = []
    for s in stages:
        d = s.details
        if s.stage == "screen":
            notes.append(f"- screen: {d['configs_per_second']:,.0f} configs/s; band {d['band']}")
        elif s.stage == "predict":
            notes.append(
                f"- predict: model fitted on {d['bootstrap_measured']} random in-band configs "
                f"measured on the agent; {d['duplicates_dropped']} duplicate configs dropped; "
                f"band {d['band_ms'][0]:.0f}-{d['band_ms'][1]:.0f} ms"
            )
        elif s.stage == "measure":
            rounds = ", ".join(
                f"{r['in_band']}/{r['measured']}"
                + (
                    f" (model within 10%: {r['within_10pct_before_refit']:.0%})"
                    if r["within_10pct_before_refit"] is not None
                    else ""
                )
                for r in d["rounds"]
            )
            seen = d["measured"] + d.get("from_bootstrap", 0)
            share = s.n_out / seen if seen else 0.0
            notes.append(
                f"- measure: {d['measured']} measured (+{d.get('from_bootstrap', 0)} bootstrap "
                f"configs predicted in band), {s.n_out} truly in band ({share:.1%}); "
                f"in band per round: {rounds}"
            )
        elif s.stage in ("proxy", "full"):
            notes.append(f"- {s.stage}: {d['trained']} trained, {d['steps']} steps each")
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", type=int, default=1_000_000)
    parser.add_argument("--measure", type=int, default=None, help="configs measured (40)")
    parser.add_argument("--proxy", type=int, default=None, help="configs proxy-trained (6)")
    parser.add_argument("--full-steps", type=int, default=None, help="full training steps (300)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    spec = parse_spec(_spec(args), source=str(EXAMPLE))
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        store = CampaignStore(f"sqlite:///{folder}/funnel.sqlite", Path(folder) / "artifacts")
        campaign = store.create_campaign(spec.name, spec.to_json())
        load_before = os.getloadavg()
        start = time.perf_counter()
        run_funnel(store, campaign.id, console)
        wall = time.perf_counter() - start
        stages = store.funnel_stages(campaign.id)
        front = store.front(campaign.id)
        store.close()
    funnel = spec.funnel
    assert funnel is not None
    command = " ".join(["benchmarks/funnel_screen.py", *sys.argv[1:]])
    lines = [
        "# The PICO funnel on this machine",
        "",
        f"Reproduce: `nice -n 10 .venv/bin/python {command}`",
        "",
        f"- spec: codecnas/examples/funnel.yaml, {funnel.configs:,} pico configs (measure "
        f"{funnel.measure.configs}, proxy {funnel.proxy.configs}, keep {funnel.proxy.keep}, "
        f"proxy steps {funnel.proxy.steps}, full steps {funnel.full.steps})",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other jobs; load "
        f"average {load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end",
        f"- decoder target {funnel.latency_target_ms:g} ms +-{funnel.tolerance:.0%} (12 MP, "
        f"ONNX Runtime CPU, tile {spec.benchmark.tile}); wall time {wall:.0f} s; "
        f"{len(front)} trial(s) on the front",
        "",
        "| stage | configs in | configs out | kept | seconds |",
        "| --- | --- | --- | --- | --- |",
        *[_row(s) for s in stages],
        "",
        *_stage_notes(stages),
        "",
        *NOTES,
    ]
    args.out.write_text("\n".join(lines))
    console.print("\n".join(lines))


if __name__ == "__main__":
    main()
