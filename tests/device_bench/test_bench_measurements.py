from dataclasses import replace
from pathlib import Path

import pytest

from device_bench.measurements import (
    MeasurementRecord,
    append_record,
    read_records,
    remeasure,
    sample_configs,
)
from search_spaces import get_space
from tests.device_bench.conftest import EXPORT_TILE, TINY_CONFIG

BASIC = get_space("basic")


def record(config: dict, p50: float = 10.0) -> MeasurementRecord:
    return MeasurementRecord(
        space="basic", config_hash=BASIC.hash(config), config=config, part="decoder",
        tile=EXPORT_TILE, device="cpu", backend="onnxruntime", p50_ms=p50, p90_ms=p50 * 1.1,
        cold_ms=50.0, features={"conv_kxk_mmacs": 1.5}, clock="cpu",
    )  # fmt: skip


def test_sampled_configs_are_distinct_and_valid() -> None:
    configs = sample_configs(BASIC, 25, seed=4)
    assert len({BASIC.hash(c) for c in configs}) == 25
    assert sample_configs(BASIC, 25, seed=4) == configs


def test_records_round_trip_and_label_is_the_median_of_passes(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    first = replace(record(TINY_CONFIG), repeat_p50_ms=(14.0, 11.0))
    append_record(path, first)
    append_record(path, record(sample_configs(BASIC, 1, 0)[0], 3.0))
    loaded = read_records(path)
    assert loaded[0] == first and loaded[0].latency_ms == 11.0 and loaded[1].latency_ms == 3.0
    path.write_text(path.read_text() + "{not json\n")
    with pytest.raises(ValueError, match=r"m.jsonl:3: not a measurement record"):
        read_records(path)


def test_remeasure_adds_passes_from_the_cached_graph(
    tmp_path: Path, tiny_onnx_parts: dict[str, bytes]
) -> None:
    path, cache = tmp_path / "m.jsonl", tmp_path / "onnx"
    first = record(TINY_CONFIG, p50=1000.0)
    append_record(path, first)
    cache.mkdir()
    # the tiny codec's decoder, cached as the measurement run would have left it: no export here
    (cache / f"{first.config_hash}-decoder-t{EXPORT_TILE}.onnx").write_bytes(
        tiny_onnx_parts["decoder"]
    )
    updated = list(remeasure({"basic": BASIC}, path, 3, onnx_cache=cache, warmup=0, runs=2))
    assert [len(r.repeat_p50_ms) for r in updated] == [1, 2]  # pass 2, then pass 3
    (stored,) = read_records(path)
    assert len(stored.repeat_p50_ms) == 2 and all(v > 0 for v in stored.repeat_p50_ms)
    assert stored.latency_ms == sorted([1000.0, *stored.repeat_p50_ms])[1]
    assert list(remeasure({"basic": BASIC}, path, 3, onnx_cache=cache)) == []  # nothing left
    with pytest.raises(ValueError, match="passes must be >= 1"):
        list(remeasure({"basic": BASIC}, path, 0, onnx_cache=cache))
