"""The funnel section of a campaign spec: validated, mistakes named with their path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nas.errors import SpecError
from nas.spec import load_spec, parse_spec

EXAMPLE = Path(__file__).parents[2] / "codecnas" / "examples" / "funnel.yaml"


def _funnel() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def test_the_shipped_funnel_example_is_valid():
    spec = load_spec(EXAMPLE)
    assert spec.mode == "funnel" and spec.funnel is not None
    assert spec.space == "pico" and spec.funnel.configs == 1_000_000
    low, high = spec.funnel.band_ms
    assert low < spec.funnel.latency_target_ms < high
    assert parse_spec(spec.to_json()) == spec


def test_standard_specs_stay_standard():
    demo = yaml.safe_load((EXAMPLE.parent / "demo.yaml").read_text())
    spec = parse_spec(demo)
    assert spec.mode == "standard" and spec.funnel is None
    assert spec.benchmark.agents == "local"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("funnel"), r"mode 'funnel' needs a 'funnel:' section"),
        (lambda d: d.update(mode="standard"), r"a 'funnel:' section needs 'mode: funnel'"),
        (lambda d: d.update(mode="cascade"), r"mode: .*got 'cascade'"),
        (lambda d: d["funnel"].update(tolerance=1.5), r"funnel\.tolerance: .*less than 1.*1\.5"),
        (lambda d: d["funnel"].update(latency_target_ms=0), r"funnel\.latency_target_ms: .*got 0"),
        (lambda d: d["funnel"].update(configs=0), r"funnel\.configs: .*got 0"),
        (lambda d: d["funnel"].update(sample=5), r"funnel\.sample: unknown key"),
        (
            lambda d: d["funnel"]["measure"].update(batch=100, configs=10),
            r"funnel\.measure: batch 100 is above configs 10",
        ),
        (
            lambda d: d["funnel"]["proxy"].update(keep=9, configs=3),
            r"funnel\.proxy: keep 9 is above configs 3",
        ),
        (
            lambda d: d["funnel"]["proxy"].update(loss={"lpips": 1.0}),
            r"funnel\.proxy\.loss: .*lpips",
        ),
        (lambda d: d["budget"].update(trials=3), r"budget\.trials 3 is below the funnel's trials"),
        (
            lambda d: d["funnel"]["proxy"].update(promote_by=["psnr"]),
            r"promote_by names \['psnr'\], which are not objectives",
        ),
        (lambda d: d["benchmark"].update(agents="phone"), r"benchmark\.agents: .*got 'phone'"),
    ],
)
def test_funnel_mistakes_are_named(mutate, message):
    data = _funnel()
    mutate(data)
    with pytest.raises(SpecError, match=message):
        parse_spec(data)
