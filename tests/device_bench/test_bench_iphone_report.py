import json
from typing import Any

import numpy as np
import pytest

from device_bench.iphone_report import FORMAT, BenchmarkRequest, ReportError, parse_report

REQUEST = BenchmarkRequest(
    job_id="a" * 32,
    model="jobs/a/model.mlmodelc",
    part="decoder",
    tile=512,
    warmup=2,
    runs=4,
    compute_units="all",
    precision="int8",
)
TIMINGS = [4.0, 3.0, 5.0, 4.5]


def report(**changes: Any) -> str:
    p50, p90 = np.percentile(TIMINGS, [50, 90])
    fields: dict[str, Any] = {
        "format": FORMAT,
        "job_id": REQUEST.job_id,
        "model": REQUEST.model,
        "part": "decoder",
        "tile": 512,
        "compute_units": "all",
        "warmup": 2,
        "runs": 4,
        "device": {"model": "iPhone17,2", "name": "phone", "os": "iOS 18.2"},
        "load_ms": 120.0,
        "first_prediction_ms": 30.5,
        "timings_ms": TIMINGS,
        "p50_ms": float(p50),
        "p90_ms": float(p90),
        "error": None,
    }
    fields.update(changes)
    return json.dumps({k: v for k, v in fields.items() if v != "<drop>"})


def test_a_good_report_becomes_a_latency_result() -> None:
    result = parse_report(report(), REQUEST, "iphone-all")
    assert result.device == "ios-iphone17-2"
    assert (result.backend, result.precision, result.tile) == ("iphone-all", "int8", 512)
    assert result.p50_ms == 4.25 and result.timings_ms == tuple(TIMINGS)
    assert result.cold_ms == 150.5
    assert result.estimate_12mp_ms == 4.25 * 48


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "other/2"}, "format is 'other/2'"),
        ({"job_id": "b" * 32}, "report is for job 'bbbb"),
        ({"error": "model load failed: E5RT"}, "could not run the model: model load failed"),
        ({"runs": 5}, "'runs' is 5, the request asked 4"),
        ({"timings_ms": [1.0, 2.0, 3.0]}, "3 timings, the request asked 4"),
        ({"timings_ms": [1.0, 2.0, -3.0, 4.0]}, r"timings_ms\[2\] is not a positive time"),
        ({"timings_ms": [1.0, True, 3.0, 4.0]}, r"timings_ms\[1\]"),
        ({"p50_ms": 9.0}, "p50_ms 9.0 disagrees with its timings"),
        ({"load_ms": "<drop>"}, "report has no 'load_ms'"),
        ({"first_prediction_ms": 0}, "'first_prediction_ms' must be a positive time"),
        ({"device": {"name": "x"}}, "must name the hardware model"),
    ],
)
def test_bad_reports_name_the_problem(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse_report(report(**changes), REQUEST, "iphone-all")


@pytest.mark.parametrize("text", ['{"format": "codecnas', "[1, 2]", ""])
def test_unparseable_reports_are_rejected(text: str) -> None:
    with pytest.raises(ReportError, match="not valid JSON|must be a JSON object"):
        parse_report(text, REQUEST, "iphone-all")


def test_the_request_is_json_the_app_reads() -> None:
    data = json.loads(REQUEST.to_json())
    assert data["format"] == FORMAT
    assert data["model"] == "jobs/a/model.mlmodelc" and data["runs"] == 4
