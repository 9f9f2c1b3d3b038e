"""Device benchmarking: export codec parts (ONNX, torch.export, Core ML), time them on real
runtimes and devices with one protocol, and predict latency from a program's features."""

from device_bench.backends import (
    BackendUnavailable,
    BenchmarkBackend,
    BenchmarkError,
    backend_names,
    create_backend,
    register_backend,
)
from device_bench.device import DeviceInfo, describe_device
from device_bench.onnx_export import (
    ExportError,
    decoder_feeds,
    export_decoder,
    export_onnx,
    export_part,
    part_feeds,
)
from device_bench.onnxruntime_backend import OnnxRuntimeBackend
from device_bench.parts import PARTS, ExportableCodec, part_graph
from device_bench.protocol import TWELVE_MP, LatencyResult, measure, tiles_for

__all__ = [
    "PARTS",
    "TWELVE_MP",
    "BackendUnavailable",
    "BenchmarkBackend",
    "BenchmarkError",
    "DeviceInfo",
    "ExportError",
    "ExportableCodec",
    "LatencyResult",
    "OnnxRuntimeBackend",
    "backend_names",
    "create_backend",
    "decoder_feeds",
    "describe_device",
    "export_decoder",
    "export_onnx",
    "export_part",
    "measure",
    "part_feeds",
    "part_graph",
    "register_backend",
    "tiles_for",
]
