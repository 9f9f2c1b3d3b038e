"""Encoder and decoder of a real codec through ONNX, read back; features of the same graphs."""

import numpy as np
import pytest
import torch

from device_bench.features import graph_features, part_features
from device_bench.onnx_export import part_feeds
from device_bench.onnxruntime_backend import OnnxRuntimeBackend
from device_bench.parts import ExportableCodec, part_graph
from device_bench.program_summary import summarize_onnx
from tests.device_bench.conftest import EXPORT_TILE

TILE = EXPORT_TILE


@pytest.mark.parametrize(
    ("part", "inputs", "outputs"),
    [
        ("encoder", ["x"], ["y_hat", "z_hat", "scales"]),
        ("decoder", ["y_hat", "z_hat"], ["x_hat", "scales"]),
    ],
)
def test_both_parts_export_run_and_read_back(
    tiny_codec: ExportableCodec,
    tiny_onnx_parts: dict[str, bytes],
    part: str,
    inputs: list[str],
    outputs: list[str],
) -> None:
    onnx_model = tiny_onnx_parts[part]
    summary = summarize_onnx(onnx_model)
    assert [i["name"] for i in summary["inputs"]] == inputs
    assert [o["name"] for o in summary["outputs"]] == outputs
    assert summary["weight_precision"] == "fp32"
    assert summary["nodes"] == sum(summary["op_types"].values()) > 0
    feeds = part_feeds(tiny_codec, part, TILE)
    ours = OnnxRuntimeBackend().run(onnx_model, feeds)
    graph = part_graph(tiny_codec, part, TILE)
    with torch.no_grad():
        theirs = graph.module.eval()(*(torch.from_numpy(v) for v in feeds.values()))
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-3, atol=1e-3)


def test_encoder_has_convs_and_rounding(tiny_onnx_parts: dict[str, bytes]) -> None:
    op_types = summarize_onnx(tiny_onnx_parts["encoder"])["op_types"]
    assert op_types["Conv"] >= 3 and op_types["Round"] >= 2


def test_features_count_macs_exactly() -> None:
    conv = torch.nn.Conv2d(4, 8, 3, padding=1)
    depthwise = torch.nn.Conv2d(8, 8, 5, padding=2, groups=8)
    up = torch.nn.ConvTranspose2d(8, 2, 4, stride=2, padding=1)
    module = torch.nn.Sequential(conv, torch.nn.GELU(), depthwise, torch.nn.ReLU(), up)
    f = graph_features(module, (torch.zeros(1, 4, 10, 10),))
    assert f["conv_kxk_mmacs"] == pytest.approx(10 * 10 * 8 * 4 * 9 * 1e-6)
    assert f["depthwise_mmacs"] == pytest.approx(10 * 10 * 8 * 25 * 1e-6)
    assert f["conv_transpose_mmacs"] == pytest.approx(10 * 10 * 8 * 2 * 16 * 1e-6)
    assert f["gelu_melems"] == pytest.approx(800e-6)
    # ReLU is priced on its own: ONNX Runtime fuses it into the convolution before it.
    assert f["relu_melems"] == pytest.approx(800e-6)
    assert f["convs"] == 3 and f["max_width"] == 8 and f["outputs"] == 1


def test_decoder_features_grow_with_the_tile(tiny_codec: ExportableCodec) -> None:
    small, large = (part_features(tiny_codec, "decoder", t) for t in (64, 128))
    assert large["macs_total_mmacs"] == pytest.approx(4 * small["macs_total_mmacs"])
    assert small["outputs"] == 2  # x_hat and scales: a hyperprior's second pass
