"""The spec's training device, mixed precision, warm-up and GPUs per trial."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nas.errors import SpecError
from nas.spec import parse_spec
from tests.conftest import tiny_spec


def test_defaults_train_on_what_ray_gives_a_trial_which_is_no_gpu() -> None:
    spec = parse_spec(tiny_spec())
    assert spec.training.device == "auto"
    assert spec.training.mixed_precision is True
    assert spec.training.warmup_steps == 0
    assert spec.cluster.gpus_per_trial == 0


def test_the_new_keys_are_read_and_survive_a_round_trip() -> None:
    spec = parse_spec(
        tiny_spec(
            training={"device": "cuda", "mixed_precision": False, "warmup_steps": 20},
            cluster={"gpus_per_trial": 0.5},
        )
    )
    assert (spec.training.device, spec.training.mixed_precision) == ("cuda", False)
    assert spec.training.warmup_steps == 20
    assert spec.cluster.gpus_per_trial == 0.5
    assert parse_spec(spec.to_json()) == spec


@pytest.mark.parametrize("device", ["auto", "cpu"])
def test_cpu_and_auto_need_no_gpu(device: str) -> None:
    assert parse_spec(tiny_spec(training={"device": device})).training.device == device


Mutation = Callable[[dict[str, Any]], None]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda d: d["training"].update(device="tpu"),
            r"training\.device: Input should be 'auto', 'cpu', 'cuda' or 'mps' \(got 'tpu'\)",
        ),
        (
            lambda d: d["training"].update(mixed_precision="sometimes"),
            r"training\.mixed_precision: .*valid boolean.*got 'sometimes'",
        ),
        (
            lambda d: d["training"].update(warmup_steps=-1),
            r"training\.warmup_steps: .*greater than or equal to 0.*got -1",
        ),
        (
            lambda d: d["training"].update(warmup_steps=2.5),
            r"training\.warmup_steps: .*valid integer.*got 2\.5",
        ),
        (
            lambda d: d["cluster"].update(gpus_per_trial=-0.5),
            r"cluster\.gpus_per_trial: .*greater than or equal to 0.*got -0\.5",
        ),
        (
            lambda d: d["cluster"].update(gpus_per_trial="one"),
            r"cluster\.gpus_per_trial: .*valid number.*got 'one'",
        ),
        (
            lambda d: d["training"].update(device="cuda"),
            r"training\.device 'cuda' needs cluster\.gpus_per_trial > 0",
        ),
        (
            lambda d: d["training"].update(device="mps"),
            r"training\.device 'mps' needs cluster\.gpus_per_trial > 0",
        ),
    ],
)
def test_bad_values_are_named_with_their_path(mutate: Mutation, message: str) -> None:
    data = tiny_spec()
    data.setdefault("cluster", {})
    mutate(data)
    with pytest.raises(SpecError, match=message):
        parse_spec(data, source="spec.yaml")
