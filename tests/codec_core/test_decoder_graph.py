from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from codec import CodecArchitecture

from .helpers import PICO_STYLE, ROUND_TRIP_ARCHITECTURES, codec_with_spread_latents, photo


@pytest.mark.parametrize(
    "arch", [*ROUND_TRIP_ARCHITECTURES[:2], PICO_STYLE], ids=["factorized", "hyperprior", "pico"]
)
def test_decoder_graph_matches_decompress(arch: CodecArchitecture) -> None:
    model = codec_with_spread_latents(arch)
    x = photo(37, 53)
    data = model.compress(x)
    _, latents = model.decode_latents(data)
    graph = model.decoder_graph().eval()
    with torch.no_grad():
        if model.h_s is None:
            x_hat = graph(latents["y"])
        else:
            x_hat, scales = graph(latents["y"], latents["z"])
            assert scales.shape == latents["y"].shape and bool(scales.min() >= torch.tensor(0.11))
    assert torch.equal(x_hat[:, :, :37, :53].clamp(0, 1), model.decompress(data))


@pytest.mark.parametrize(
    "arch", [*ROUND_TRIP_ARCHITECTURES[:4], PICO_STYLE], ids=lambda a: f"{a.activation}-{a.block}"
)
def test_decoder_example_inputs_fit_the_graph(arch: CodecArchitecture) -> None:
    model = codec_with_spread_latents(arch)
    inputs = model.decoder_example_inputs(50, 70)
    with torch.no_grad():
        outputs = model.decoder_graph()(*inputs)
    x_hat = outputs[0] if isinstance(outputs, tuple) else outputs
    m = model.size_multiple
    assert x_hat.shape == (1, 3, -(-50 // m) * m, -(-70 // m) * m)
    assert all(torch.equal(t, t.round()) for t in inputs)


@pytest.mark.slow  # the torch.export-based exporter alone takes ~10 s on this machine
@pytest.mark.parametrize(
    "arch",
    [
        CodecArchitecture(8, 12, 2, "inverted_residual", "gelu", hyperprior=True, expansion=2),
        PICO_STYLE,
    ],
    ids=["basic", "pico"],
)
def test_decoder_graph_exports_to_onnx(tmp_path: Path, arch: CodecArchitecture) -> None:
    model = codec_with_spread_latents(arch)
    graph = model.decoder_graph().eval()
    inputs = model.decoder_example_inputs(32, 48)
    path = tmp_path / "decoder.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            inputs,
            str(path),
            input_names=["y_hat", "z_hat"],
            output_names=["x_hat", "scales"],
        )
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"y_hat": inputs[0].numpy(), "z_hat": inputs[1].numpy()})
    with torch.no_grad():
        want = graph(*inputs)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w.numpy(), atol=1e-4)
