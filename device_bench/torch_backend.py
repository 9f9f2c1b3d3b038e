"""torch on the CPU: runs the `torch.export` program of a part, the graph Core ML converts from.

The artifact is a saved ExportedProgram (`torch.export.save`, a .pt2 file): it carries the graph
and the weights without the codec's Python classes, so an agent needs torch and nothing else.
"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from device_bench.backends import Artifact, artifact_bytes, synthetic_inputs
from device_bench.device import describe_device
from device_bench.parts import ExportableCodec, part_graph
from device_bench.protocol import LatencyResult, estimate_12mp_ms, measure


def export_torch_program(model: ExportableCodec, part: str, tile: int = 512) -> bytes:
    """The part's ExportedProgram for square tiles of `tile` pixels, as .pt2 bytes."""
    graph = part_graph(model, part, tile)
    was_training = graph.module.training
    graph.module.eval()
    try:
        program = torch.export.export(graph.module, graph.example_inputs)
    finally:
        graph.module.train(was_training)
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    return buffer.getvalue()


def _load_program(artifact: Artifact) -> torch.export.ExportedProgram:
    data = artifact_bytes(artifact)
    try:
        return torch.export.load(io.BytesIO(data))
    except Exception as error:  # torch raises several types for a bad archive
        source = "bytes" if isinstance(artifact, bytes) else str(Path(artifact))
        raise ValueError(f"not a saved torch.export program ({source}): {error}") from error


def _signature(program: torch.export.ExportedProgram) -> list[tuple[str, list[int], np.dtype]]:
    """(name, shape, dtype) of the user inputs, from the program's placeholder metadata."""
    user_inputs = set(program.graph_signature.user_inputs)
    signature = []
    for node in program.graph.nodes:
        if node.op == "placeholder" and node.name in user_inputs:
            value = node.meta["val"]
            dtype = torch.empty((), dtype=value.dtype).numpy().dtype
            signature.append((node.name, [int(d) for d in value.shape], dtype))
    return signature


class TorchBackend:
    """Runs saved ExportedPrograms with torch on the CPU, on a fixed number of threads."""

    name = "torch"
    artifact_format = "torch-export"

    def __init__(self, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.threads = threads

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
        """cold_ms covers loading the program and the first run; then the shared protocol."""
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            start = time.perf_counter()
            program = _load_program(artifact)
            signature = _signature(program)
            feeds = dict(inputs) if inputs is not None else synthetic_inputs(signature)
            expected = [name for name, _, _ in signature]
            if sorted(feeds) != sorted(expected):
                raise ValueError(f"inputs named {sorted(feeds)}, the program expects {expected}")
            args = tuple(torch.from_numpy(np.ascontiguousarray(feeds[name])) for name in expected)
            module = program.module()

            def run_once() -> object:
                with torch.inference_mode():
                    return module(*args)

            run_once()
            cold_ms = (time.perf_counter() - start) * 1000.0
            p50, p90, timings = measure(run_once, warmup=warmup, runs=runs)
        finally:
            torch.set_num_threads(previous_threads)
        return LatencyResult(
            device=describe_device().name,
            backend=self.name,
            part=part,
            precision=str(signature[0][2]).replace("float", "fp") if signature else "fp32",
            tile=tile,
            warmup=warmup,
            runs=runs,
            p50_ms=p50,
            p90_ms=p90,
            estimate_12mp_ms=estimate_12mp_ms(p50, tile),
            cold_ms=cold_ms,
            timings_ms=timings,
        )
