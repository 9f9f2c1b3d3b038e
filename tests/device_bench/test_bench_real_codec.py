"""The real codec's decoder graph through export and ONNX Runtime.

Skipped while codec.model or its build_codec is missing."""

import numpy as np
import pytest
import torch

from device_bench.onnx_export import decoder_feeds, export_decoder
from device_bench.onnxruntime_backend import OnnxRuntimeBackend

codec_model = pytest.importorskip("codec.model", reason="codec.model is not written yet")
codec_architecture = pytest.importorskip("codec.architecture")


@pytest.fixture(scope="module")
def real_codec() -> object:
    if not hasattr(codec_model, "build_codec"):
        pytest.skip("codec.model has no build_codec yet")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    architecture = codec_architecture.CodecArchitecture(
        channels=32,
        latent_channels=48,
        stages=3,
        block="residual",
        activation="relu",
        hyperprior=True,
    )
    return codec_model.build_codec(architecture).eval()


def test_real_decoder_onnx_matches_torch(real_codec: object) -> None:
    tile = 128
    onnx_model = export_decoder(real_codec, tile=tile)  # type: ignore[arg-type]
    feeds = decoder_feeds(real_codec, tile)  # type: ignore[arg-type]
    onnx_outputs = OnnxRuntimeBackend().run(onnx_model, feeds)
    with torch.no_grad():
        torch_outputs = real_codec.decoder_graph()(  # type: ignore[attr-defined]
            *(torch.from_numpy(value) for value in feeds.values())
        )
    if isinstance(torch_outputs, torch.Tensor):
        torch_outputs = (torch_outputs,)
    assert len(onnx_outputs) == len(torch_outputs) == 2  # x_hat and scales with a hyperprior
    for onnx_output, torch_output in zip(onnx_outputs, torch_outputs, strict=False):
        np.testing.assert_allclose(onnx_output, torch_output.numpy(), rtol=1e-4, atol=1e-4)


def test_real_decoder_benchmark_at_512(real_codec: object) -> None:
    onnx_model = export_decoder(real_codec)  # type: ignore[arg-type]
    result = OnnxRuntimeBackend().benchmark(
        onnx_model,
        decoder_feeds(real_codec, 512),
        warmup=1,
        runs=2,  # type: ignore[arg-type]
    )
    assert 0 < result.p50_ms <= result.p90_ms
    assert result.estimate_12mp_ms == result.p50_ms * 48
