"""Config-level latency features and the funnel's batch latency model.

The features are counted from configs arithmetically; they must equal what tracing the built
graph counts (features.py), so a model fitted on either reads the same numbers. The model's
accuracy on real ONNX Runtime timings is benchmarks/latency_predictor.py's job (minutes of CPU);
here its fit is checked against a known cost per feature, which it must recover.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from device_bench.batch_features import FEATURE_NAMES, feature_batch
from device_bench.batch_predictor import BatchLatencyModel
from device_bench.features import part_features
from search_spaces import get_space
from search_spaces.vectorized import sample_batch

# Convolution features are exact; element-wise ones skip the pass-mask constants that export
# folds away (a few tiny ops), so they agree to a small tolerance.
CONV_PREFIXES = ("conv", "depthwise", "plain_", "large_out", "huge_out", "narrow_transpose")
EXACT = [n for n in FEATURE_NAMES if n.startswith(CONV_PREFIXES)] + ["unfolded_melems"]
APPROXIMATE = [n for n in FEATURE_NAMES if n not in EXACT and n != "ops"]


@pytest.mark.parametrize(
    ("name", "part", "count"),
    [("pico", "decoder", 10), ("basic", "decoder", 4), ("pico", "encoder", 4)],
)
def test_config_features_equal_the_traced_graph(name: str, part: str, count: int) -> None:
    torch.set_num_threads(1)
    space = get_space(name)
    batch = sample_batch(space, count, np.random.default_rng(11))
    names, x = feature_batch(batch, part, 64)
    assert names == FEATURE_NAMES and x.shape == (count, len(FEATURE_NAMES))
    column = {n: i for i, n in enumerate(names)}
    for row, config in enumerate(batch.configs()):
        traced = part_features(space.build(config), part, 64)
        for feature in EXACT:
            assert x[row, column[feature]] == pytest.approx(traced.get(feature, 0.0), rel=1e-9), (
                feature, config,
            )  # fmt: skip
        if part == "decoder":  # the encoder's symbol arithmetic is only roughly counted
            for feature in APPROXIMATE:
                assert x[row, column[feature]] == pytest.approx(
                    traced.get(feature, 0.0), rel=0.02, abs=1e-3
                ), (feature, config)
            assert abs(x[row, column["ops"]] - traced["ops"]) <= 40, config


def _known_latency(x: np.ndarray) -> np.ndarray:
    """A device whose costs are known: the fit must find them (0.5 ms overhead)."""
    costs = np.zeros(len(FEATURE_NAMES))
    for name, cost in {"conv_kxk_mmacs": 0.01, "depthwise_mmacs": 0.05, "gelu_melems": 0.3}.items():
        costs[FEATURE_NAMES.index(name)] = cost
    return x @ costs + 0.5


def test_batch_model_recovers_known_costs_and_flags_unfamiliar_configs() -> None:
    space = get_space("pico")
    familiar = {"block": "conv", "activation": "relu", "entropy_model": "scale_hyperprior"}
    train = sample_batch(space, 120, np.random.default_rng(0), fixed=familiar)
    model = BatchLatencyModel(space, tile=128, members=8)
    model.fit(train.configs(), _known_latency(feature_batch(train, "decoder", 128)[1]).tolist())
    assert model.groups is None, "120 samples price every feature"
    held_out = sample_batch(space, 50, np.random.default_rng(1), fixed=familiar)
    mean, rel_std = model.predict(held_out)
    truth = _known_latency(feature_batch(held_out, "decoder", 128)[1])
    np.testing.assert_allclose(mean, truth, rtol=1e-6)
    assert mean.shape == rel_std.shape == (50,) and np.all(rel_std >= 0)
    # Blocks, activations and entropy models never measured: leverage puts them first.
    strange = sample_batch(
        space, 50, np.random.default_rng(2),
        fixed={"block": "convscale", "activation": "gelu", "entropy_model": "context"},
    )  # fmt: skip
    _, strange_std = model.predict(strange)
    assert np.min(strange_std) > np.max(rel_std), (np.min(strange_std), np.max(rel_std))


def test_few_measurements_fit_coarse_features_and_bad_input_is_named() -> None:
    space = get_space("pico")
    batch = sample_batch(space, 6, np.random.default_rng(3))
    model = BatchLatencyModel(space, tile=128)
    model.fit(batch.configs(), [10.0, 12.0, 30.0, 8.0, 9.0, 15.0])
    assert model.groups is not None and len(model.predictor.feature_names) == 1
    mean, rel_std = model.predict(batch)
    assert np.all(mean > 0) and np.all(np.isfinite(rel_std))
    with pytest.raises(ValueError, match="3 configs but 2 latencies"):
        model.fit(batch.configs([0, 1, 2]), [1.0, 2.0])
    with pytest.raises(ValueError, match="at least 3"):
        model.fit(batch.configs([0, 1]), [1.0, 2.0])
    with pytest.raises(ValueError, match="'basic'"):
        model.predict(sample_batch(get_space("basic"), 2, np.random.default_rng(0)))


def test_a_million_configs_predict_in_seconds() -> None:
    space = get_space("pico")
    train = sample_batch(space, 80, np.random.default_rng(4))
    model = BatchLatencyModel(space, tile=512)
    model.fit(train.configs(), _known_latency(feature_batch(train, "decoder", 512)[1]).tolist())
    batch = sample_batch(space, 1_000_000, np.random.default_rng(5))
    start = time.process_time()  # CPU time: the machine is shared, wall time is not ours
    mean, rel_std = model.predict(batch)
    seconds = time.process_time() - start
    assert mean.shape == rel_std.shape == (1_000_000,) and np.all(mean > 0)
    assert seconds < 30, f"predicting 10^6 configs took {seconds:.0f} s of CPU"
