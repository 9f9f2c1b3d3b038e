"""The latency predictor trained on real ONNX Runtime measurements of small conv stacks.

The stacks are built as ONNX graphs directly (no exporter: 20 configs measure in seconds) and
their features come from the equivalent torch modules, as a codec's do."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from device_bench.features import Features, graph_features
from device_bench.latency_predictor import (
    ConfigLatencyModel,
    LatencyPredictor,
    LatencySample,
    share_within,
)
from device_bench.onnxruntime_backend import OnnxRuntimeBackend

SIDE = 48  # pixels a side of the measured input


def conv_stack(widths: tuple[int, ...], kernel: int) -> tuple[torch.nn.Module, bytes]:
    """Conv(k) + ReLU layers through `widths`, as a torch module and the same ONNX graph."""
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = []
    nodes, initializers, previous = [], [], "x"
    for index, (cin, cout) in enumerate(itertools.pairwise(widths)):
        conv = torch.nn.Conv2d(cin, cout, kernel, padding=kernel // 2)
        layers += [conv, torch.nn.ReLU()]
        w, b = f"w{index}", f"b{index}"
        initializers += [
            numpy_helper.from_array(conv.weight.detach().numpy(), w),
            numpy_helper.from_array(conv.bias.detach().numpy(), b),  # type: ignore[union-attr]
        ]
        pads = [kernel // 2] * 4
        nodes += [
            helper.make_node("Conv", [previous, w, b], [f"c{index}"], pads=pads),
            helper.make_node("Relu", [f"c{index}"], [f"r{index}"]),
        ]
        previous = f"r{index}"
    nodes.append(helper.make_node("Identity", [previous], ["y"]))
    graph = helper.make_graph(
        nodes,
        "stack",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, widths[0], SIDE, SIDE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, widths[-1], SIDE, SIDE])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    return torch.nn.Sequential(*layers), model.SerializeToString()


def configs(count: int, seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    return [
        {
            "widths": tuple(int(w) for w in rng.choice([4, 8, 16, 24, 32], rng.integers(2, 6))),
            "kernel": int(rng.choice([1, 3, 5])),
        }
        for _ in range(count)
    ]


def featurize(config: Mapping[str, Any]) -> Features:
    module, _ = conv_stack(config["widths"], config["kernel"])
    widths: tuple[int, ...] = config["widths"]
    return graph_features(module, (torch.zeros(1, widths[0], SIDE, SIDE),))


PASSES = 3  # interleaved timing passes per config; the label is their median (as the benchmark)


@pytest.fixture(scope="module")
def measured() -> list[tuple[dict[str, object], LatencySample]]:
    torch.set_num_threads(1)
    backend = OnnxRuntimeBackend(threads=1, clock="cpu")  # CPU time: other jobs do not count
    stacks = [
        (config, conv_stack(config["widths"], config["kernel"])[1])  # type: ignore[arg-type]
        for config in configs(22, seed=3)
    ]
    timings: list[list[float]] = [[] for _ in stacks]
    for _ in range(PASSES):  # pass by pass, so a burst of load hits one pass of many configs
        for index, (_, onnx_model) in enumerate(stacks):
            result = backend.benchmark(onnx_model, tile=SIDE, warmup=2, runs=9)
            timings[index].append(result.p50_ms)
    return [
        (config, LatencySample(featurize(config), float(np.median(times))))
        for (config, _), times in zip(stacks, timings, strict=True)
    ]


def test_share_within_counts_relative_errors() -> None:
    measured = [10.0, 10.0, 10.0, 10.0]
    assert share_within([10.9, 9.1, 11.1, 8.0], measured) == 0.5
    assert share_within([10.9, 9.1, 11.1, 8.0], measured, tolerance=0.25) == 1.0
    with pytest.raises(ValueError, match="equal, non-empty"):
        share_within([1.0], [1.0, 2.0])


def test_trained_predictor_is_accurate_on_held_out_configs(
    measured: list[tuple[dict[str, object], LatencySample]],
) -> None:
    samples = [sample for _, sample in measured]
    train, test = samples[:16], samples[16:]
    predictor = LatencyPredictor("this-cpu", "onnxruntime", members=8).fit(train)
    predicted = predictor.predict([s.features for s in test])
    latencies = np.array([s.latency_ms for s in test])
    errors = np.abs(predicted / latencies - 1)
    # Held-out latencies span ~20x; a predictor that ignored the features (the training mean)
    # would be off by far more than these margins, which leave room for a loaded shared CPU.
    constant = np.abs(np.mean([s.latency_ms for s in train]) / latencies - 1)
    assert np.median(errors) <= 0.2, (predicted, latencies)
    assert share_within(predicted, latencies, tolerance=0.35) >= 4 / 6, (predicted, latencies)
    assert np.mean(errors) < 0.5 * np.mean(constant), (errors, constant)
    assert predictor.costs()["conv_kxk_mmacs"] > 0
    # a stored predictor predicts the same, uncertainty included
    restored = LatencyPredictor.from_json(json.loads(json.dumps(predictor.to_json())))
    np.testing.assert_allclose(restored.predict([s.features for s in test]), predicted)
    np.testing.assert_allclose(
        restored.uncertainty([s.features for s in test]),
        predictor.uncertainty([s.features for s in test]),
    )


def test_uncertainty_ranks_unfamiliar_configs_first(
    measured: list[tuple[dict[str, object], LatencySample]],
) -> None:
    predictor = LatencyPredictor("this-cpu", "onnxruntime", members=16).fit(
        [sample for _, sample in measured]
    )
    model = ConfigLatencyModel(predictor, featurize, key=lambda c: json.dumps(c, sort_keys=True))
    familiar = [config for config, _ in measured]
    unfamiliar = {"widths": (3, 96, 96, 96, 96, 96, 96), "kernel": 7}  # wider, deeper, 7x7
    x = predictor._matrix([model.features(c) for c in [*familiar, unfamiliar]])
    # Leverage depends on the features only (not on timings), so this ordering is deterministic:
    # every measured config sits inside the data (<= 1), the unfamiliar one far outside.
    leverage = predictor.leverage(x)
    assert leverage[:-1].max() <= 1.0 and leverage[-1] > 100 * leverage[:-1].max(), leverage
    assert model.uncertainty(unfamiliar) > max(model.uncertainty(c) for c in familiar)
    assert model.most_uncertain([*familiar[:5], unfamiliar], 1) == [unfamiliar]
    assert model.predict(unfamiliar) > max(model.predict(c) for c in familiar)


def test_fit_needs_more_samples_than_features() -> None:
    sample = LatencySample({"conv_kxk_mmacs": 1.0, "ops": 2.0}, 1.0)
    with pytest.raises(ValueError, match="more samples than the 2 priced features, got 2"):
        LatencyPredictor("d", "b").fit([sample, sample])
    with pytest.raises(RuntimeError, match="not fitted"):
        LatencyPredictor("d", "b").predict([{}])
