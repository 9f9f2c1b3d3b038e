"""Measure configs of a search space on a backend and keep the results as JSON lines.

A record is everything the latency predictor learns from: the config, its features, and the
measured latency. The file is keyed by config hash, so a long measurement run can stop and resume,
and the same config is never measured twice into it. On a shared machine one pass is at the mercy
of whatever else runs at that minute, so repeat passes (remeasure) time the cached ONNX graphs
again later; a record's label is the median over its passes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from device_bench.features import Features, config_features, part_features
from device_bench.onnx_export import export_part, part_feeds
from device_bench.onnxruntime_backend import OnnxRuntimeBackend
from device_bench.parts import ExportableCodec
from search_spaces import SearchSpace


@dataclass(frozen=True)
class MeasurementRecord:
    space: str
    config_hash: str
    config: dict[str, Any]
    part: str
    tile: int
    device: str
    backend: str
    p50_ms: float
    p90_ms: float
    cold_ms: float
    features: Features = field(default_factory=dict)
    export_s: float = 0.0
    clock: str = "wall"
    repeat_p50_ms: tuple[float, ...] = ()  # p50 of each later pass

    @property
    def latency_ms(self) -> float:
        """The label: median of the passes' p50s."""
        return float(statistics.median((self.p50_ms, *self.repeat_p50_ms)))


def sample_configs(space: SearchSpace, count: int, seed: int) -> list[dict[str, Any]]:
    """Up to `count` distinct configs drawn at random (fewer when the space is smaller)."""
    rng = np.random.default_rng(seed)
    seen: dict[str, dict[str, Any]] = {}
    # A bounded number of draws: a small space must not loop forever looking for new configs.
    for _ in range(count * 20):
        if len(seen) == count:
            break
        config = space.sample(rng)
        seen.setdefault(space.hash(config), config)
    return list(seen.values())


def measure_config(
    space: SearchSpace,
    config: dict[str, Any],
    *,
    part: str = "decoder",
    tile: int = 512,
    warmup: int = 2,
    runs: int = 7,
    backend: OnnxRuntimeBackend | None = None,
    onnx_cache: Path | None = None,
) -> MeasurementRecord:
    """Build `config` (seeded weights), export `part` to ONNX (kept in `onnx_cache` when given)
    and time it on ONNX Runtime."""
    backend = backend or OnnxRuntimeBackend(threads=1, clock="cpu")
    torch.manual_seed(0)
    model = space.build(config).eval()
    start = time.perf_counter()
    onnx_model = _cached_export(lambda: model, space.hash(config), part, tile, onnx_cache)
    export_s = time.perf_counter() - start
    result = backend.benchmark(
        onnx_model, part_feeds(model, part, tile), part=part, tile=tile, warmup=warmup, runs=runs
    )
    return MeasurementRecord(
        space=space.name,
        config_hash=space.hash(config),
        config=space.validate(config),
        part=part,
        tile=tile,
        device=result.device,
        backend=result.backend,
        p50_ms=result.p50_ms,
        p90_ms=result.p90_ms,
        cold_ms=result.cold_ms,
        features={**config_features(config), **part_features(model, part, tile)},
        export_s=export_s,
        clock=result.clock,
    )


def _cached_export(
    build: Callable[[], ExportableCodec],
    config_hash: str,
    part: str,
    tile: int,
    cache: Path | None,
) -> bytes:
    path = None if cache is None else cache / f"{config_hash}-{part}-t{tile}.onnx"
    if path is not None and path.is_file():
        return path.read_bytes()
    onnx_model = export_part(build(), part, tile)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(onnx_model)
    return onnx_model


def read_records(path: Path) -> list[MeasurementRecord]:
    """Every record in a JSON-lines file (none when it does not exist yet)."""
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            data["repeat_p50_ms"] = tuple(data.get("repeat_p50_ms", ()))
            records.append(MeasurementRecord(**data))
        except (json.JSONDecodeError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a measurement record: {error}") from error
    return records


def append_record(path: Path, record: MeasurementRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(asdict(record), sort_keys=True) + "\n")


def write_records(path: Path, records: Iterable[MeasurementRecord]) -> None:
    """Replace the file atomically: a stop half-way leaves the old file, never half a new one."""
    scratch = path.with_suffix(path.suffix + ".tmp")
    scratch.write_text(
        "".join(json.dumps(asdict(r), sort_keys=True) + "\n" for r in records), encoding="utf-8"
    )
    os.replace(scratch, path)


def measure_missing(
    space: SearchSpace,
    configs: Iterable[dict[str, Any]],
    path: Path,
    *,
    part: str = "decoder",
    tile: int = 512,
    warmup: int = 2,
    runs: int = 7,
    clock: str = "cpu",
    onnx_cache: Path | None = None,
) -> Iterator[MeasurementRecord]:
    """Measure the configs that `path` holds no record of (same part and tile), appending each.

    ONNX Runtime on one thread; clock "cpu" by default, so other processes on the machine do
    not stretch the timings (see protocol.CLOCKS).
    """
    done = {(r.config_hash, r.part, r.tile) for r in read_records(path)}
    backend = OnnxRuntimeBackend(threads=1, clock=clock)
    for config in configs:
        if (space.hash(config), part, tile) in done:
            continue
        record = measure_config(
            space, config, part=part, tile=tile, warmup=warmup, runs=runs,
            backend=backend, onnx_cache=onnx_cache,
        )  # fmt: skip
        append_record(path, record)
        yield record


def remeasure(
    spaces: Mapping[str, SearchSpace],
    path: Path,
    passes: int,
    *,
    onnx_cache: Path,
    warmup: int = 2,
    runs: int = 7,
    clock: str = "cpu",
) -> Iterator[MeasurementRecord]:
    """Give every record of a space in `spaces` `passes` passes in all (the first is its
    measurement), timing the cached graph again; rewrites `path` after each record."""
    if passes < 1:
        raise ValueError(f"passes must be >= 1, got {passes}")
    records = read_records(path)
    backend = OnnxRuntimeBackend(threads=1, clock=clock)
    # Pass by pass over the whole file, so one config's passes are minutes apart, not adjacent.
    for target in range(2, passes + 1):
        for index, record in enumerate(records):
            if record.space not in spaces or 1 + len(record.repeat_p50_ms) >= target:
                continue
            space = spaces[record.space]
            onnx_model = _cached_export(
                lambda: space.build(record.config).eval(),  # noqa: B023  (called right here)
                record.config_hash,
                record.part,
                record.tile,
                onnx_cache,
            )
            result = backend.benchmark(
                onnx_model, part=record.part, tile=record.tile, warmup=warmup, runs=runs
            )
            records[index] = dataclasses.replace(
                record, repeat_p50_ms=(*record.repeat_p50_ms, result.p50_ms)
            )
            write_records(path, records)
            yield records[index]
