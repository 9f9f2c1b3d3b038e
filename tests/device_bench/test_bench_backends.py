import platform
from pathlib import Path

import numpy as np
import pytest

from device_bench.backends import (
    BackendUnavailable,
    BenchmarkBackend,
    backend_names,
    create_backend,
    register_backend,
    synthetic_inputs,
)
from device_bench.coreml_backend import CoreMLBackend
from device_bench.onnxruntime_backend import OnnxRuntimeBackend
from device_bench.parts import ExportableCodec
from device_bench.torch_backend import TorchBackend, export_torch_program
from tests.device_bench.conftest import EXPORT_TILE

TILE = EXPORT_TILE


def test_registry_knows_every_backend() -> None:
    assert backend_names() == ["coreml", "iphone", "onnxruntime", "torch"]
    backend = create_backend("onnxruntime", threads=1)
    assert isinstance(backend, OnnxRuntimeBackend) and isinstance(backend, BenchmarkBackend)
    assert create_backend("torch").artifact_format == "torch-export"


def test_unknown_and_duplicate_names_are_rejected() -> None:
    with pytest.raises(KeyError, match=r"unknown benchmark backend 'tpu'.*'onnxruntime'"):
        create_backend("tpu")
    with pytest.raises(ValueError, match="'torch' is already registered"):
        register_backend("torch", TorchBackend)


@pytest.mark.skipif(platform.system() == "Darwin", reason="checks the refusal off macOS")
def test_coreml_backend_refuses_to_start_off_macos() -> None:
    with pytest.raises(BackendUnavailable, match=r"runs only on macOS.*this machine runs Linux"):
        create_backend("coreml")


def test_coreml_backend_names_the_platform_it_found() -> None:
    with pytest.raises(BackendUnavailable, match="only on macOS"):
        CoreMLBackend(system=lambda: "Windows")
    with pytest.raises(ValueError, match="compute_units must be one of"):
        CoreMLBackend(compute_units="npu")


def test_onnxruntime_benchmarks_a_file_with_synthesised_inputs(
    tiny_onnx_parts: dict[str, bytes], tmp_path: Path
) -> None:
    path = tmp_path / "decoder.onnx"
    path.write_bytes(tiny_onnx_parts["decoder"])
    result = OnnxRuntimeBackend(clock="cpu").benchmark(path, tile=TILE, warmup=1, runs=3)
    assert result.clock == "cpu" and result.precision == "fp32"
    assert 0 < result.p50_ms <= result.p90_ms and len(result.timings_ms) == 3


def test_cpu_clock_needs_one_thread() -> None:
    with pytest.raises(ValueError, match="single-threaded runs only, got threads=2"):
        OnnxRuntimeBackend(threads=2, clock="cpu")
    with pytest.raises(ValueError, match="clock='sundial'"):
        OnnxRuntimeBackend(clock="sundial")


def test_torch_backend_runs_a_saved_program(tiny_codec: ExportableCodec) -> None:
    program = export_torch_program(tiny_codec, "encoder", TILE)
    result = TorchBackend().benchmark(program, part="encoder", tile=TILE, warmup=0, runs=2)
    assert (result.backend, result.part, result.precision) == ("torch", "encoder", "fp32")
    assert result.cold_ms > 0 and len(result.timings_ms) == 2
    with pytest.raises(ValueError, match=r"inputs named \['y'\], the program expects \['x'\]"):
        TorchBackend().benchmark(program, inputs={"y": np.zeros(1, np.float32)})
    with pytest.raises(ValueError, match="not a saved torch.export program"):
        TorchBackend().benchmark(b"nope")


def test_synthetic_inputs_look_like_an_image_and_latents() -> None:
    feeds = synthetic_inputs(
        [("x", [1, 3, 4, 4], np.dtype(np.float32)), ("y_hat", [1, 8, 2, 2], np.dtype(np.float16))]
    )
    assert feeds["x"].dtype == np.float32 and 0 <= feeds["x"].min() and feeds["x"].max() <= 1
    assert feeds["y_hat"].dtype == np.float16
    assert np.array_equal(feeds["y_hat"], np.round(feeds["y_hat"]))
    with pytest.raises(ValueError, match="no fixed shape"):
        synthetic_inputs([("x", [1, -1], np.dtype(np.float32))])
