"""Latency predictor accuracy for ONNX Runtime CPU on this machine, reported as nn-Meter does.

    .venv/bin/python benchmarks/latency_predictor.py --count 300 --tile 256

1. Samples `--count` configs per space (basic, and pico when registered and asked for), exports
   each decoder to ONNX at `--tile`, and times it with ONNX Runtime on 1 thread (protocol p50,
   CPU clock: the machine is shared, see device_bench.protocol.CLOCKS). Measurements are appended
   to a JSON-lines file and reused on the next run (resumable; a config is measured once).
2. Splits the configs at random into train and held-out sets, fits the predictor on train, and
   reports the share of held-out configs predicted within +-10% (and +-5%, +-20%), against a
   MACs-only baseline.
   Then `--passes` passes in all: every config is timed again from its cached ONNX graph, pass by
   pass over the whole set (minutes apart); a config's label is the median of its passes' p50s.
   How often two passes of one config agree within +-10% shows the noise a label carries.
3. Writes benchmarks/results/latency_predictor.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from device_bench.device import describe_device
from device_bench.features import codec_features
from device_bench.latency_predictor import LatencyPredictor, LatencySample, share_within
from device_bench.measurements import (
    MeasurementRecord,
    measure_missing,
    read_records,
    remeasure,
    sample_configs,
)
from search_spaces import get_space, space_names

RESULTS = Path(__file__).parent / "results" / "latency_predictor.md"


def _measure(args: argparse.Namespace, records_path: Path) -> None:
    for name in args.spaces:
        space = get_space(name)
        configs = sample_configs(space, args.count[name], args.seed)
        start, done = time.perf_counter(), 0
        for record in measure_missing(
            space, configs, records_path, tile=args.tile, warmup=args.warmup, runs=args.runs,
            onnx_cache=args.onnx_cache,
        ):  # fmt: skip
            done += 1
            print(
                f"[{name} {done}] {record.config_hash[:8]} p50 {record.p50_ms:.2f} ms "
                f"({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    spaces = {name: get_space(name) for name in args.spaces}
    for done, record in enumerate(
        remeasure(spaces, records_path, args.passes, onnx_cache=args.onnx_cache,
                  warmup=args.warmup, runs=args.runs),
        start=1,
    ):  # fmt: skip
        print(f"[pass {1 + len(record.repeat_p50_ms)} {done}] {record.config_hash[:8]}", flush=True)


def _macs_only(train: list[MeasurementRecord], test: list[MeasurementRecord]) -> np.ndarray:
    """Baseline: latency proportional to total MACs plus a constant, fitted the same way."""
    samples = [
        LatencySample({"all_mmacs": r.features["macs_total_mmacs"]}, r.latency_ms) for r in train
    ]
    predictor = LatencyPredictor("baseline", "macs", members=1).fit(samples)
    return predictor.predict([{"all_mmacs": r.features["macs_total_mmacs"]} for r in test])


def _refresh_features(record: MeasurementRecord) -> MeasurementRecord:
    """The record with features computed by today's extractor (a few ms, no export): features
    gain new groups over time, while a measured graph stays what it was."""
    space = get_space(record.space)
    features = codec_features(
        lambda c: space.build(dict(c)), record.config, record.part, record.tile
    )
    return dataclasses.replace(record, features=features)


def _split_shares(records: list[MeasurementRecord], args: argparse.Namespace) -> list[float]:
    """Share within +-10% on `--splits` random splits (seeds seed, seed+1, ...)."""
    shares = []
    for seed in range(args.seed, args.seed + args.splits):
        order = np.random.default_rng(seed).permutation(len(records))
        cut = int(len(records) * args.train_share)
        train = [records[i] for i in order[:cut]]
        test = [records[i] for i in order[cut:]]
        predictor = LatencyPredictor("split", "split", members=1).fit(
            [LatencySample(r.features, r.latency_ms) for r in train]
        )
        predicted = predictor.predict([r.features for r in test])
        shares.append(share_within(predicted, [r.latency_ms for r in test]))
    return shares


def _pass_agreement(records: list[MeasurementRecord]) -> np.ndarray:
    """|second pass / first pass - 1| per record timed at least twice."""
    return np.array([abs(r.repeat_p50_ms[0] / r.p50_ms - 1) for r in records if r.repeat_p50_ms])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--spaces", default="basic", help="comma-separated (e.g. basic,pico)")
    parser.add_argument(
        "--count", default="300", help="configs per space: N for all, or basic=300,pico=60"
    )
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-share", type=float, default=0.7)
    parser.add_argument("--passes", type=int, default=5, help="timing passes per config")
    parser.add_argument("--splits", type=int, default=5, help="random splits to average over")
    parser.add_argument("--records", type=Path, default=None, help="JSON-lines measurements")
    parser.add_argument("--onnx-cache", type=Path, default=Path(".codecnas/bench/onnx"))
    parser.add_argument("--no-measure", action="store_true", help="use stored records only")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.spaces = [s for s in args.spaces.split(",") if s]
    if "=" in args.count:
        args.count = {k: int(v) for k, v in (item.split("=") for item in args.count.split(","))}
    else:
        args.count = dict.fromkeys(args.spaces, int(args.count))
    unknown = [s for s in args.spaces if s not in space_names()]
    if unknown:
        parser.error(f"unknown spaces {unknown}; known: {space_names()}")
    torch.set_num_threads(1)
    records_path = args.records or Path(f".codecnas/bench/ort_decoder_t{args.tile}.jsonl")
    if not args.no_measure:
        _measure(args, records_path)
    records = [
        _refresh_features(r) for r in read_records(records_path)
        if r.space in args.spaces and r.tile == args.tile and r.part == "decoder"
    ]  # fmt: skip
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(records))
    cut = int(len(records) * args.train_share)
    train = [records[i] for i in order[:cut]]
    test = [records[i] for i in order[cut:]]
    device, backend = records[0].device, records[0].backend
    predictor = LatencyPredictor(device, backend, members=16, seed=args.seed).fit(
        [LatencySample(r.features, r.latency_ms) for r in train]
    )
    measured = np.array([r.latency_ms for r in test])
    predicted = predictor.predict([r.features for r in test])
    uncertainty = predictor.uncertainty([r.features for r in test])
    baseline = _macs_only(train, test)
    errors = np.abs(predicted / measured - 1)
    rho = float(spearmanr(uncertainty, errors).statistic)
    agreement = _pass_agreement(records)
    lines = [
        "# Latency predictor: ONNX Runtime CPU on this machine",
        "",
        "Reproduce: `.venv/bin/python benchmarks/latency_predictor.py "
        f"--spaces {','.join(args.spaces)} "
        f"--count {','.join(f'{k}={v}' for k, v in args.count.items())} --tile {args.tile} "
        f"--runs {args.runs} --passes {args.passes}`",
        "",
        f"- device `{device}` ({describe_device().cpu_model}), backend `{backend}`, 1 thread, "
        f"decoder graphs at tile {args.tile} (not 512: export plus timing of a few hundred configs "
        f"at 512 does not fit a session on 2 shared cores)",
        f"- labels: median over {args.passes} passes (minutes apart) of the p50 of {args.runs} "
        f"runs after {args.warmup} warm-ups, on the CPU clock "
        "(thread CPU time): the machine is shared by other jobs (load average 5-8 during the "
        "run), which stretched wall-clock times up to 5x and made them useless as labels",
        f"- configs: {len(records)} measured ("
        + ", ".join(f"{n}: {sum(r.space == n for r in records)}" for n in args.spaces)
        + f"), {len(train)} to train, "
        f"{len(test)} held out (random split, seed {args.seed})",
        "- predictor: additive kernel-cost model (non-negative least squares on relative error "
        f"over {len(predictor.feature_names)} cost features: MACs per conv kind, im2col/col2im "
        "elements, element-wise elements per op kind, op counts), 16 bagged members",
        "",
        "| held-out configs within | predictor | MACs-only baseline |",
        "| --- | --- | --- |",
    ]
    for tolerance in (0.05, 0.10, 0.20):
        lines.append(
            f"| +-{tolerance:.0%} | {share_within(predicted, measured, tolerance):.1%} | "
            f"{share_within(baseline, measured, tolerance):.1%} |"
        )
    lines += [
        "",
        f"- mean absolute relative error: {errors.mean():.1%} (baseline "
        f"{np.mean(np.abs(baseline / measured - 1)):.1%})",
        f"- uncertainty (ensemble spread) vs absolute error, Spearman rho: {rho:.2f}",
    ]
    if args.splits > 1:
        shares = _split_shares(records, args)
        lines.append(
            f"- within +-10% over {args.splits} random splits (seeds {args.seed}.."
            f"{args.seed + args.splits - 1}): mean {np.mean(shares):.1%}, "
            f"min {min(shares):.1%}, max {max(shares):.1%}"
        )
    if agreement.size:
        lines.append(
            f"- label noise: the second pass of a config lies within +-10% of its first in "
            f"{np.mean(agreement <= 0.10):.1%} of {agreement.size} configs (median |change| "
            f"{np.median(agreement):.1%}, worst {np.max(agreement):.1%}); a single-pass label "
            "caps any predictor near that share"
        )
    lines += ["", "Fitted costs (ms per unit; the unit is in the feature's name):", ""]
    lines += [f"- `{name}`: {cost:.4g}" for name, cost in predictor.costs().items() if cost > 0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
