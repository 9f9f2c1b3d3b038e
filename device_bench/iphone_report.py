"""The files the Mac-side agent and the benchmark app on the iPhone exchange.

The agent copies `request.json` next to the compiled model into the app's Documents folder; the
app's XCTest times the model with the shared protocol and writes `report.json` there; the agent
copies it back and reads it here. The Swift side is ios/CodecBench/Tests/BenchmarkFiles.swift;
a change to either side changes FORMAT.

report.json:
    {"format": "codecnas-bench-report/1", "job_id": str, "model": str, "part": str, "tile": int,
     "compute_units": str, "warmup": int, "runs": int,
     "device": {"model": "iPhone17,1", "name": str, "os": "iOS 18.1"},
     "load_ms": float, "first_prediction_ms": float, "timings_ms": [float, ...],
     "p50_ms": float, "p90_ms": float, "error": null | str}
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from device_bench.backends import BenchmarkError
from device_bench.device import slugify
from device_bench.protocol import LatencyResult, estimate_12mp_ms

FORMAT = "codecnas-bench-report/1"
REQUEST_FILE = "request.json"
REPORT_FILE = "report.json"
# The app's percentiles (linear interpolation, as numpy) must agree with ours to rounding.
_PERCENTILE_TOLERANCE_MS = 1e-3


class ReportError(BenchmarkError):
    """The app's report is missing, malformed, stale or says the run failed."""


@dataclass(frozen=True)
class BenchmarkRequest:
    job_id: str
    model: str  # the compiled model's folder name, next to request.json
    part: str
    tile: int
    warmup: int
    runs: int
    compute_units: str
    precision: str

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=2, sort_keys=True)


def _field(report: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in report:
        raise ReportError(f"report has no {key!r}")
    value = report[key]
    # bool is an int in Python, but a JSON true is never a count or a time.
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ReportError(f"report {key!r} must be {kind}, got {value!r}")
    return value


def _positive_ms(report: dict[str, Any], key: str) -> float:
    value = float(_field(report, key, (int, float)))
    if not math.isfinite(value) or value <= 0:
        raise ReportError(f"report {key!r} must be a positive time in ms, got {value!r}")
    return value


def device_name(device: dict[str, Any]) -> str:
    """The name results are stored under, e.g. "ios-iphone17-1" for an iPhone 16 Pro."""
    model = device.get("model")
    if not isinstance(model, str) or not model:
        raise ReportError(f"report 'device' must name the hardware model, got {device!r}")
    return f"ios-{slugify(model)}"


def parse_report(text: str, request: BenchmarkRequest, backend: str) -> LatencyResult:
    """The app's report as a LatencyResult, after checking it answers `request`."""
    try:
        report = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(f"report is not valid JSON ({error}): {text[:200]!r}") from error
    if not isinstance(report, dict):
        raise ReportError(f"report must be a JSON object, got {type(report).__name__}")
    if report.get("format") != FORMAT:
        raise ReportError(f"report format is {report.get('format')!r}, expected {FORMAT!r}")
    if report.get("job_id") != request.job_id:
        raise ReportError(
            f"report is for job {report.get('job_id')!r}, not {request.job_id!r} (a stale report?)"
        )
    if report.get("error") is not None:
        raise ReportError(f"the app could not run the model: {report['error']}")
    for key in ("part", "tile", "warmup", "runs", "compute_units"):
        asked = getattr(request, key)
        if report.get(key) != asked:
            raise ReportError(f"report {key!r} is {report.get(key)!r}, the request asked {asked!r}")
    timings = _field(report, "timings_ms", list)
    if len(timings) != request.runs:
        raise ReportError(
            f"report has {len(timings)} timings, the request asked {request.runs} runs"
        )
    for index, value in enumerate(timings):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ReportError(f"report timings_ms[{index}] is not a positive time: {value!r}")
    p50, p90 = (float(v) for v in np.percentile(timings, [50, 90]))
    for key, ours in (("p50_ms", p50), ("p90_ms", p90)):
        theirs = _positive_ms(report, key)
        if abs(theirs - ours) > _PERCENTILE_TOLERANCE_MS:
            raise ReportError(f"report {key} {theirs} disagrees with its timings ({ours})")
    cold_ms = _positive_ms(report, "load_ms") + _positive_ms(report, "first_prediction_ms")
    return LatencyResult(
        device=device_name(_field(report, "device", dict)),
        backend=backend,
        part=request.part,
        precision=request.precision,
        tile=request.tile,
        warmup=request.warmup,
        runs=request.runs,
        p50_ms=p50,
        p90_ms=p90,
        estimate_12mp_ms=estimate_12mp_ms(p50, request.tile),
        cold_ms=cold_ms,
        timings_ms=tuple(float(v) for v in timings),
    )
