"""What every benchmark backend offers, and the one registry of backends by name.

An agent holds nothing but an artifact (bytes downloaded by content hash, or a path) and a job
(part, tile, warm-up and run counts), so that is all `benchmark` takes; inputs are synthesised from
the artifact's own input signature (see synthetic_inputs) unless the caller passes real ones.
A backend that cannot run on this machine raises BackendUnavailable when it is created, with the
reason, so an agent fails at start and not on its first job.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from device_bench.protocol import LatencyResult

Artifact = bytes | str | os.PathLike[str]


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (wrong OS, missing tool or device); the message says why."""


class BenchmarkError(RuntimeError):
    """A benchmark started but did not produce a valid result (the message says where)."""


@runtime_checkable
class BenchmarkBackend(Protocol):
    name: str
    # The artifact kind the backend runs: "onnx", "torch-export" or "mlpackage".
    artifact_format: str

    def benchmark(
        self,
        artifact: Artifact,
        *,
        part: str = "decoder",
        tile: int = 512,
        warmup: int = 3,
        runs: int = 10,
        inputs: Mapping[str, np.ndarray] | None = None,
    ) -> LatencyResult: ...


BackendFactory = Callable[..., BenchmarkBackend]
_REGISTERED: dict[str, BackendFactory] = {}  # added by register_backend, beside the built-ins


@functools.cache
def _builtin() -> dict[str, BackendFactory]:
    # Imported on first use: the registry module stays importable without torch or coremltools.
    from device_bench.coreml_backend import CoreMLBackend
    from device_bench.iphone_backend import IPhoneBackend
    from device_bench.onnxruntime_backend import OnnxRuntimeBackend
    from device_bench.torch_backend import TorchBackend

    backends = (OnnxRuntimeBackend, TorchBackend, CoreMLBackend, IPhoneBackend)
    return {backend.name: backend for backend in backends}


def _factories() -> dict[str, BackendFactory]:
    return {**_builtin(), **_REGISTERED}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make `factory(**options)` the backend called `name`; a name is registered once."""
    if name in _factories():
        raise ValueError(f"a benchmark backend named {name!r} is already registered")
    _REGISTERED[name] = factory


def backend_names() -> list[str]:
    return sorted(_factories())


def create_backend(name: str, **options: Any) -> BenchmarkBackend:
    """A ready backend; raises KeyError for an unknown name, BackendUnavailable when it cannot
    run on this machine."""
    factories = _factories()
    if name not in factories:
        raise KeyError(f"unknown benchmark backend {name!r}; known backends: {sorted(factories)}")
    return factories[name](**options)


def artifact_bytes(artifact: Artifact) -> bytes:
    """The artifact's bytes, reading it when it is a path."""
    if isinstance(artifact, bytes):
        return artifact
    path = Path(artifact)
    if not path.is_file():
        raise FileNotFoundError(f"no artifact file at {path}")
    return path.read_bytes()


def synthetic_inputs(
    signature: Sequence[tuple[str, Sequence[int], np.dtype[Any]]], seed: int = 0
) -> dict[str, np.ndarray]:
    """Inputs for a graph given its (name, shape, dtype) signature: an image `x` in [0, 1];
    integer-valued latents otherwise, spread like a trained codec's (mostly small magnitudes)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, shape, dtype in signature:
        if any(int(d) <= 0 for d in shape):
            raise ValueError(f"input {name!r} has no fixed shape ({list(shape)}): cannot time it")
        if name == "x":
            values = rng.random(tuple(shape))
        else:
            values = np.round(2.0 * rng.standard_normal(tuple(shape)))
        feeds[name] = values.astype(dtype)
    return feeds
