"""The agent loop in-process: the local agent of the embedded default, lease renewal during a
long measurement, retries of an unreachable server, and models that cannot be measured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from codecnas.local_agent import LocalJobBoard, start_local_agent
from device_bench.agent import AgentOptions, run_agent
from device_bench.agent_http import HttpJobBoard
from device_bench.agent_protocol import BoardUnavailable, JobTicket
from device_bench.backends import create_backend
from nas.bench_domain import BenchJobState
from nas.storage import CampaignStore
from tests.agents.onnx_models import conv_stack
from tests.dashboard.live_server import free_port

FAST = AgentOptions(lease_seconds=30, warmup=1, runs=3, idle_min_seconds=0.05, idle_max_seconds=0.1)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[CampaignStore]:
    store = CampaignStore(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "artifacts")
    yield store
    store.close()


def enqueue(store: CampaignStore, model: bytes, tile: int = 64, **kw: object) -> int:
    sha = store.put_model_artifact(model)
    job = store.enqueue_bench_job(
        model_sha256=sha, model_format="onnx", part="decoder", backend="onnxruntime", tile=tile,
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return job.id


def test_the_local_agent_measures_the_queue_and_reports_what_it_cannot_measure(
    sqlite_store: CampaignStore, tmp_path: Path
) -> None:
    store = sqlite_store
    campaign = store.create_campaign("local", {})
    trial = store.create_trial(campaign.id, {"c": 1}, "h1")
    good = enqueue(store, conv_stack(1, layers=2, channels=8), trial_id=trial.id)
    broken = enqueue(store, b"these bytes are not an ONNX graph")
    handle = start_local_agent(store, options=replace(FAST, cache_dir=tmp_path / "models"))
    try:
        while any(not store.bench_job(j).state.is_finished for j in (good, broken)):
            threading.Event().wait(0.05)
    finally:
        summary = handle.stop()
    assert summary is not None and (summary.measured, summary.failed) == (1, 1)
    measured = store.bench_job(good)
    assert measured.state is BenchJobState.DONE and measured.result is not None
    assert measured.result.cold_ms is not None and measured.result.details["clock"] == "wall"
    assert len(measured.result.details["timings_ms"]) == 3
    assert measured.result.estimate_12mp_ms == pytest.approx(measured.result.p50_ms * 63 * 48)
    assert [m.tile for m in store.measurements(trial.id)] == [64]
    # The model was downloaded once into the agent's cache, under its content hash.
    assert (tmp_path / "models" / measured.model_sha256).is_file()
    failed = store.bench_job(broken)
    assert failed.state is BenchJobState.FAILED
    assert "Error parsing message with type 'onnx.ModelProto'" in (failed.error or "")
    assert not handle.running


def test_the_lease_is_renewed_while_a_long_measurement_runs(
    sqlite_store: CampaignStore, tmp_path: Path
) -> None:
    store = sqlite_store
    job_id = enqueue(store, conv_stack(5, layers=12, channels=64, tile=256), tile=256)
    options = AgentOptions(lease_seconds=1.0, warmup=1, runs=6, cache_dir=tmp_path / "models")
    summary = run_agent(
        LocalJobBoard(store), create_backend("onnxruntime"), options=options, max_jobs=1
    )
    assert (summary.measured, summary.lost) == (1, 0)
    job = store.bench_job(job_id)
    assert job.state is BenchJobState.DONE and job.attempts == 1
    assert job.result is not None and job.result.runs == 6
    # The measurement outlasted the 1 s lease several times over: only renewals kept it.
    assert job.result.cold_ms is not None
    assert job.result.cold_ms + 7 * job.result.p50_ms > 1000.0


class DropsTheFirstCalls(LocalJobBoard):
    """A board whose connection fails for the first `failures` leases (a server restarting)."""

    def __init__(self, store: CampaignStore, failures: int) -> None:
        super().__init__(store)
        self.failures = failures

    def lease(self, agent_id: int, lease_seconds: float) -> JobTicket | None:
        if self.failures > 0:
            self.failures -= 1
            raise BoardUnavailable("connection refused (server restarting)")
        return super().lease(agent_id, lease_seconds)


def test_an_unreachable_server_is_retried_then_the_agent_goes_on(
    sqlite_store: CampaignStore, tmp_path: Path
) -> None:
    enqueue(sqlite_store, conv_stack(2, layers=2, channels=8))
    board = DropsTheFirstCalls(sqlite_store, failures=3)
    summary = run_agent(
        board, create_backend("onnxruntime"), options=replace(FAST, cache_dir=tmp_path), max_jobs=1
    )
    assert board.failures == 0 and summary.measured == 1


def test_the_http_board_reports_a_closed_port_as_unavailable() -> None:
    with HttpJobBoard(f"http://127.0.0.1:{free_port()}", "cnas_token", timeout=5) as board:
        with pytest.raises(BoardUnavailable, match="ConnectError"):
            board.lease(1, 30)
