"""How much of a search space converts to Core ML: `python -m device_bench.coreml_survey`.

Samples configs, exports each one's encoder and decoder in every variant, and prints the success
rate with each failure's converter message (what the search would store as "infeasible for
Core ML"). Packages go to a scratch folder and are deleted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

from device_bench.coreml_export import VARIANTS, export_coreml
from device_bench.measurements import sample_configs
from device_bench.parts import PARTS
from search_spaces import get_space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--space", default="basic")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    space = get_space(args.space)
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="codecnas-coreml-survey-") as scratch:
        for config in sample_configs(space, args.count, args.seed):
            model = space.build(config).eval()
            for part in PARTS:
                for variant in VARIANTS:
                    export = export_coreml(
                        model, part, Path(scratch), tile=args.tile, variant=variant
                    )
                    outcomes[f"{part}-{variant}-{'ok' if export.feasible else 'infeasible'}"] += 1
                    if not export.feasible:
                        failures.append(f"{config} {part} {variant}: {export.message[:300]}")
    exports = sum(outcomes.values())
    ok = sum(n for key, n in outcomes.items() if key.endswith("-ok"))
    print(
        f"space {args.space}: {args.count} configs x {len(PARTS)} parts x {len(VARIANTS)} variants"
    )
    seconds = time.perf_counter() - start
    print(f"converted {ok}/{exports} ({100 * ok / exports:.1f}%) in {seconds:.0f} s")
    for key, count in sorted(outcomes.items()):
        print(f"  {key}: {count}")
    for failure in failures:
        print(f"  FAILED {failure}")


if __name__ == "__main__":
    main()
