import math

import numpy as np
import pytest

from device_bench.device import describe_device
from device_bench.onnx_export import ExportableDecoder, decoder_feeds, export_decoder
from device_bench.onnxruntime_backend import OnnxRuntimeBackend
from device_bench.protocol import TWELVE_MP, tiles_for

X = np.array([[1, -2, 3, 0], [-1, -1, -1, -1]], dtype=np.float32)


def test_run_computes_the_graph(tiny_onnx_model: bytes) -> None:
    weight = np.arange(12, dtype=np.float32).reshape(4, 3)
    (y,) = OnnxRuntimeBackend().run(tiny_onnx_model, {"x": X})
    np.testing.assert_allclose(y, np.maximum(X @ weight + 1, 0), rtol=1e-6)


def test_benchmark_reports_a_complete_result(tiny_onnx_model: bytes) -> None:
    result = OnnxRuntimeBackend(threads=1).benchmark(
        tiny_onnx_model, {"x": X}, part="decoder", tile=512, warmup=2, runs=7
    )
    assert (result.device, result.backend, result.part) == (
        describe_device().name,
        "onnxruntime",
        "decoder",
    )
    assert (result.precision, result.tile, result.warmup, result.runs) == ("fp32", 512, 2, 7)
    assert len(result.timings_ms) == 7
    for value in (
        result.p50_ms,
        result.p90_ms,
        result.cold_ms,
        result.estimate_12mp_ms,
        *result.timings_ms,
    ):
        assert value > 0 and math.isfinite(value)
    assert result.p50_ms <= result.p90_ms
    assert result.estimate_12mp_ms == result.p50_ms * 48


def test_estimate_follows_the_tile_size(tiny_onnx_model: bytes) -> None:
    result = OnnxRuntimeBackend().benchmark(
        tiny_onnx_model, {"x": X}, tile=256, runs=3, precision="int8"
    )
    assert tiles_for(*TWELVE_MP, 256) == 192
    assert result.estimate_12mp_ms == result.p50_ms * 192
    assert result.precision == "int8"


def test_feeds_must_match_the_model_inputs(tiny_onnx_model: bytes) -> None:
    with pytest.raises(ValueError, match=r"inputs named \['y'\], the model expects \['x'\]"):
        OnnxRuntimeBackend().run(tiny_onnx_model, {"y": X})


def test_invalid_model_bytes_are_rejected() -> None:
    with pytest.raises(ValueError, match="ONNX Runtime cannot load the model"):
        OnnxRuntimeBackend().run(b"not an onnx model", {"x": X})


def test_thread_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="got 0"):
        OnnxRuntimeBackend(threads=0)


def test_benchmark_of_an_exported_decoder_tile(standin_codec: ExportableDecoder) -> None:
    onnx_model = export_decoder(standin_codec, tile=512)
    result = OnnxRuntimeBackend().benchmark(
        onnx_model, decoder_feeds(standin_codec, 512), tile=512, warmup=1, runs=3
    )
    assert 0 < result.p50_ms <= result.p90_ms
    assert result.estimate_12mp_ms == result.p50_ms * 48
    assert result.cold_ms > 0
