"""ONNX Runtime on the CPU: the benchmark backend that runs everywhere (DESIGN.md)."""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import onnx
import onnxruntime as ort

from device_bench.backends import Artifact, artifact_bytes, synthetic_inputs
from device_bench.device import describe_device
from device_bench.protocol import CLOCKS, LatencyResult, estimate_12mp_ms, measure

# Reported precision, from the element type of the graph's first input.
_PRECISION_OF_ELEMENT_TYPE = {
    onnx.TensorProto.FLOAT: "fp32",
    onnx.TensorProto.FLOAT16: "fp16",
    onnx.TensorProto.BFLOAT16: "bf16",
    onnx.TensorProto.DOUBLE: "fp64",
    onnx.TensorProto.INT8: "int8",
    onnx.TensorProto.UINT8: "uint8",
}


class OnnxRuntimeBackend:
    """Runs ONNX models with the CPU execution provider and a fixed number of threads."""

    name = "onnxruntime"
    artifact_format = "onnx"

    def __init__(self, threads: int = 1, clock: str = "wall") -> None:
        # A fixed count (not ORT's "0 = all cores") keeps results comparable across machines
        # and lets several agents share one host.
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        if clock not in CLOCKS:
            raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got clock={clock!r}")
        if clock == "cpu" and threads != 1:
            # ORT runs a one-thread session on the calling thread; with more, work moves to pool
            # threads whose CPU time the calling thread's clock does not see.
            raise ValueError(f"clock='cpu' times single-threaded runs only, got threads={threads}")
        self.threads = threads
        self.clock = clock

    def _session(self, onnx_model: bytes) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1  # a decoder is one chain of convs: nothing to overlap
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            return ort.InferenceSession(
                onnx_model, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # ORT raises its own exception types from C++
            raise ValueError(f"ONNX Runtime cannot load the model: {error}") from error

    @staticmethod
    def _check_feeds(session: ort.InferenceSession, inputs: Mapping[str, np.ndarray]) -> None:
        expected = sorted(value.name for value in session.get_inputs())
        if sorted(inputs) != expected:
            raise ValueError(f"inputs named {sorted(inputs)}, the model expects {expected}")

    def run(self, onnx_model: bytes, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run the model once on `inputs` and return its outputs in graph order."""
        session = self._session(onnx_model)
        self._check_feeds(session, inputs)
        return [np.asarray(output) for output in session.run(None, inputs)]

    def benchmark(
        self,
        artifact: Artifact,
        inputs: Mapping[str, np.ndarray] | None = None,
        *,
        part: str = "decoder",
        tile: int = 512,
        warmup: int = 3,
        runs: int = 10,
        precision: str | None = None,
    ) -> LatencyResult:
        """Time the model (ONNX bytes or a path to a .onnx file) on one tile's `inputs`.

        cold_ms covers session creation (graph optimisation included) and the first run; then
        `warmup` untimed runs; then `runs` timed runs. Without `inputs`, they are synthesised from
        the graph's input signature. `precision` defaults to the element type of the graph's
        first input (pass it for quantised graphs with float inputs).
        """
        onnx_model = artifact_bytes(artifact)
        precision = precision or _graph_precision(onnx_model)
        start = time.perf_counter()
        session = self._session(onnx_model)
        feeds = dict(inputs) if inputs is not None else _synthetic_feeds(session)
        self._check_feeds(session, feeds)
        session.run(None, feeds)
        cold_ms = (time.perf_counter() - start) * 1000.0

        p50, p90, timings = measure(
            lambda: session.run(None, feeds), warmup=warmup, runs=runs, clock=self.clock
        )
        return LatencyResult(
            device=describe_device().name,
            backend=self.name,
            part=part,
            precision=precision,
            tile=tile,
            warmup=warmup,
            runs=runs,
            p50_ms=p50,
            p90_ms=p90,
            estimate_12mp_ms=estimate_12mp_ms(p50, tile),
            cold_ms=cold_ms,
            timings_ms=timings,
            clock=self.clock,
        )


_NUMPY_OF_ORT_TYPE = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
}


def _synthetic_feeds(session: ort.InferenceSession) -> dict[str, np.ndarray]:
    signature = []
    for value in session.get_inputs():
        if value.type not in _NUMPY_OF_ORT_TYPE:
            raise ValueError(f"input {value.name!r} has type {value.type}: cannot synthesise it")
        shape = [d if isinstance(d, int) else -1 for d in value.shape]
        signature.append((value.name, shape, np.dtype(_NUMPY_OF_ORT_TYPE[value.type])))
    return synthetic_inputs(signature)


def _graph_precision(onnx_model: bytes) -> str:
    graph = onnx.load_from_string(onnx_model).graph
    if not graph.input:
        raise ValueError("the ONNX graph has no inputs to benchmark")
    element_type = graph.input[0].type.tensor_type.elem_type
    if element_type not in _PRECISION_OF_ELEMENT_TYPE:
        name = onnx.TensorProto.DataType.Name(element_type)
        raise ValueError(f"no precision name for graph input element type {name}")
    return _PRECISION_OF_ELEMENT_TYPE[element_type]
