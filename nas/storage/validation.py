"""Checks on values before they reach the database, so that errors name the value at fault.

Decision on NaN and infinity: they are REJECTED (InvalidValueError naming the metric), not stored
as NULL. A NaN PSNR or latency means the trial is broken; the caller should record it with
``fail_trial`` rather than let a hole reach the Pareto front. JSON documents (specs, configs,
sampler states) must be strict JSON for the same reason (and because Postgres refuses NaN there).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from nas.domain import ArtifactPayload, JsonDict, Measurement
from nas.errors import InvalidValueError


def finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidValueError(f"{what} must be a real number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise InvalidValueError(f"{what} is {result}; NaN and infinity are not stored")
    return result


def name(value: object, what: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > max_length:
        raise InvalidValueError(f"{what} {value[:40]!r}... is longer than {max_length} characters")
    return value


def json_document(value: object, what: str) -> JsonDict:
    """A strict-JSON copy of a dict (tuples become lists), as it will read back from storage."""
    if not isinstance(value, Mapping):
        raise InvalidValueError(f"{what} must be a JSON object (dict), got {type(value).__name__}")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{what} is not strict JSON: {exc}") from exc
    result: JsonDict = json.loads(text)
    return result


def metrics(values: Mapping[str, Any], what: str) -> dict[str, float]:
    return {
        name(key, f"{what} name", 200): finite(value, f"{what} {key!r}")
        for key, value in values.items()
    }


def per_image(values: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    return {
        name(image, "image name", 500): metrics(image_metrics, f"metric of image {image!r}")
        for image, image_metrics in values.items()
    }


def measurement(value: Measurement, index: int) -> Measurement:
    what = f"measurement {index}"
    if not isinstance(value, Measurement):
        raise InvalidValueError(f"{what} must be a Measurement, got {type(value).__name__}")
    for field, limit in (("device", 200), ("backend", 100), ("part", 50), ("precision", 20)):
        name(getattr(value, field), f"{what} {field}", limit)
    for field in ("tile", "warmup", "runs"):
        count = getattr(value, field)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidValueError(f"{what} {field} must be an integer >= 0, got {count!r}")
    for field in ("p50_ms", "p90_ms", "estimate_12mp_ms"):
        finite(getattr(value, field), f"{what} {field}")
    if value.cold_ms is not None:
        finite(value.cold_ms, f"{what} cold_ms")
    return value


def artifact_payloads(payloads: Sequence[ArtifactPayload]) -> list[ArtifactPayload]:
    seen: set[str] = set()
    for payload in payloads:
        if not isinstance(payload, ArtifactPayload):
            raise InvalidValueError(f"artifact must be an ArtifactPayload, got {payload!r:.80}")
        name(payload.filename, "artifact filename", 255)
        name(payload.kind, f"kind of artifact {payload.filename!r}", 50)
        if not isinstance(payload.data, bytes | bytearray | memoryview):
            raise InvalidValueError(
                f"data of artifact {payload.filename!r} must be bytes, "
                f"got {type(payload.data).__name__}"
            )
        if payload.filename in seen:
            raise InvalidValueError(f"artifact filename {payload.filename!r} given twice")
        seen.add(payload.filename)
    return list(payloads)
