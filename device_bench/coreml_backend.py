"""Core ML through coremltools' `predict`, on a Mac (Apple silicon: CPU, GPU and Neural Engine).

`predict` needs the Core ML framework, which only macOS has; elsewhere the backend refuses to start
and says so (BackendUnavailable), rather than failing on its first job. The artifact is a
`.mlpackage` folder, or its bytes as made by coreml_export.package_to_bytes.
"""

from __future__ import annotations

import platform
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from device_bench.backends import Artifact, BackendUnavailable, synthetic_inputs
from device_bench.coreml_export import METADATA_VARIANT, package_from_bytes
from device_bench.device import describe_device
from device_bench.protocol import LatencyResult, estimate_12mp_ms, measure

# MLComputeUnits, by the names agents and job specs use.
COMPUTE_UNITS = {
    "all": "ALL",
    "cpu_only": "CPU_ONLY",
    "cpu_and_gpu": "CPU_AND_GPU",
    "cpu_and_ne": "CPU_AND_NE",
}
_NUMPY_OF_ARRAY_TYPE = {"FLOAT16": np.float16, "FLOAT32": np.float32, "DOUBLE": np.float64}


def check_compute_units(compute_units: str) -> str:
    if compute_units not in COMPUTE_UNITS:
        raise ValueError(
            f"compute_units must be one of {sorted(COMPUTE_UNITS)}, got {compute_units!r}"
        )
    return compute_units


def _require_macos(system: str) -> None:
    if system != "Darwin":
        device = describe_device()
        raise BackendUnavailable(
            f"the Core ML backend runs only on macOS: coremltools' predict needs Apple's Core ML "
            f"framework, and this machine runs {device.os} ({device.machine}). Use the "
            f"'onnxruntime' backend here, or start this agent on a Mac."
        )
    try:
        from coremltools.libcoremlpython import _MLModelProxy  # noqa: F401  (native part)
    except ImportError as error:
        raise BackendUnavailable(
            f"coremltools is installed without its native Core ML bridge ({error}); "
            f"install a coremltools wheel for this macOS and Python"
        ) from error


class CoreMLBackend:
    """Loads a package with the given compute units and times `MLModel.predict`."""

    name = "coreml"
    artifact_format = "mlpackage"

    def __init__(
        self, compute_units: str = "all", system: Callable[[], str] = platform.system
    ) -> None:
        self.compute_units = check_compute_units(compute_units)
        _require_macos(system())

    def benchmark(
        self,
        artifact: Artifact,
        *,
        part: str = "decoder",
        tile: int = 512,
        warmup: int = 3,
        runs: int = 10,
        inputs: Mapping[str, np.ndarray] | None = None,
    ) -> LatencyResult:
        """cold_ms covers loading (Core ML compiles and plans for the compute units) and the
        first prediction; then the shared protocol."""
        with tempfile.TemporaryDirectory(prefix="codecnas-coreml-") as scratch:
            if isinstance(artifact, bytes):
                package = package_from_bytes(artifact, Path(scratch))
            else:
                package = Path(artifact)
            if not (package / "Manifest.json").is_file():
                raise ValueError(f"{package} is not a Core ML package (no Manifest.json)")
            return self._benchmark(package, part, tile, warmup, runs, inputs)

    def _benchmark(
        self,
        package: Path,
        part: str,
        tile: int,
        warmup: int,
        runs: int,
        inputs: Mapping[str, np.ndarray] | None,
    ) -> LatencyResult:
        import coremltools as ct

        units = getattr(ct.ComputeUnit, COMPUTE_UNITS[self.compute_units])
        start = time.perf_counter()
        model = ct.models.MLModel(str(package), compute_units=units)
        spec = model.get_spec()
        feeds: dict[str, Any] = dict(inputs) if inputs is not None else _feeds(spec)
        model.predict(feeds)
        cold_ms = (time.perf_counter() - start) * 1000.0
        p50, p90, timings = measure(lambda: model.predict(feeds), warmup=warmup, runs=runs)
        return LatencyResult(
            device=describe_device().name,
            backend=f"{self.name}-{self.compute_units}",
            part=part,
            precision=spec.description.metadata.userDefined.get(METADATA_VARIANT, "fp16"),
            tile=tile,
            warmup=warmup,
            runs=runs,
            p50_ms=p50,
            p90_ms=p90,
            estimate_12mp_ms=estimate_12mp_ms(p50, tile),
            cold_ms=cold_ms,
            timings_ms=timings,
        )


def _feeds(spec: Any) -> dict[str, np.ndarray]:
    from coremltools.proto import FeatureTypes_pb2

    signature = []
    for feature in spec.description.input:
        array = feature.type.multiArrayType
        type_name = FeatureTypes_pb2.ArrayFeatureType.ArrayDataType.Name(array.dataType)
        dtype = np.dtype(_NUMPY_OF_ARRAY_TYPE.get(type_name, np.float32))
        signature.append((feature.name, [int(d) for d in array.shape], dtype))
    return synthetic_inputs(signature)
