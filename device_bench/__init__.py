"""Device benchmarking: export codec parts to ONNX and time them on real runtimes."""

from device_bench.device import DeviceInfo, describe_device
from device_bench.onnx_export import (
    ExportError,
    decoder_feeds,
    export_decoder,
    export_onnx,
)
from device_bench.onnxruntime_backend import OnnxRuntimeBackend
from device_bench.protocol import TWELVE_MP, LatencyResult, measure, tiles_for

__all__ = [
    "TWELVE_MP",
    "DeviceInfo",
    "ExportError",
    "LatencyResult",
    "OnnxRuntimeBackend",
    "decoder_feeds",
    "describe_device",
    "export_decoder",
    "export_onnx",
    "measure",
    "tiles_for",
]
