"""The agent protocol end to end: the API served by uvicorn on loopback and two real
`codecnas agent` processes measuring real ONNX models with ONNX Runtime.

One agent is SIGKILLed while it holds a lease; the lease expires and the other agent measures
that job; the killed agent's late result is refused (409) and changes nothing; a job for a model
already measured on the device is answered from the cache. At the end every job is done and the
database holds one result per distinct model: no result lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from typer.testing import CliRunner

from dashboard import create_app
from nas.bench_domain import BenchJob, BenchJobState
from nas.storage import CampaignStore
from nas.storage.access import Role
from tests.agents.onnx_models import conv_stack
from tests.dashboard.conftest import dashboard_settings
from tests.dashboard.live_server import LiveServer

CODECNAS = Path(sys.executable).with_name("codecnas")
LEASE_SECONDS = 3
TINY_JOBS = 6
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[CampaignStore]:
    store = CampaignStore(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "artifacts")
    yield store
    store.close()


def start_agent(server: str, token: str, name: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    command = [
        str(CODECNAS), "agent", "--backend", "onnxruntime", "--server", server,
        "--token", token, "--name", name, "--lease-seconds", str(LEASE_SECONDS),
        "--warmup", "1", "--runs", "3", "--poll-seconds", "0.2",
        "--cache-dir", str(tmp_path / f"cache-{name}"),
    ]  # fmt: skip
    log = (tmp_path / f"{name}.log").open("wb")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def enqueue(store: CampaignStore, model: bytes, tile: int = 64) -> BenchJob:
    sha = store.put_model_artifact(model)
    return store.enqueue_bench_job(
        model_sha256=sha, model_format="onnx", part="decoder", backend="onnxruntime", tile=tile
    )


def done(store: CampaignStore, job_id: int) -> BenchJob | None:
    job = store.bench_job(job_id)
    return job if job.state.is_finished else None


@pytest.mark.slow
def test_two_agents_a_kill_an_expired_lease_a_refused_result_and_a_cache_hit(
    sqlite_store: CampaignStore, tmp_path: Path
) -> None:
    store = sqlite_store
    secrets = {name: store.create_token(name, Role.AGENT)[1] for name in ("agent-a", "agent-b")}
    app = create_app(dashboard_settings(tmp_path), store)
    started = time.perf_counter()
    with LiveServer(app) as server:
        agents = {name: start_agent(server.url, s, name, tmp_path) for name, s in secrets.items()}
        try:
            registered = wait_for("both agents to register", lambda: len(store.bench_agents()) == 2)
            assert registered
            ids = {a.name: a.id for a in store.bench_agents()}

            # Tiny models, measured by whichever agent leases them.
            tiny = [conv_stack(seed, layers=8, channels=64) for seed in range(TINY_JOBS)]
            tiny_jobs = [enqueue(store, model) for model in tiny]
            for job in tiny_jobs:
                measured = wait_for(f"tiny job {job.id}", lambda j=job: done(store, j.id))
                assert measured.state is BenchJobState.DONE, measured.error

            # A model slow enough to be caught in the middle of its measurement.
            slow = enqueue(store, conv_stack(99, layers=12, channels=64, tile=256), tile=256)
            leased = wait_for("the slow job's lease", lambda: _leased(store, slow.id))
            holder = next(name for name, i in ids.items() if i == leased.agent_id)
            other = next(name for name in agents if name != holder)
            agents[holder].send_signal(signal.SIGKILL)
            agents[holder].wait(timeout=30)

            finished = wait_for(
                "the other agent to measure the slow job", lambda: done(store, slow.id)
            )
            assert finished.state is BenchJobState.DONE and finished.result is not None
            assert finished.agent_id == ids[other] and finished.attempts == 2

            # The killed agent's result arrives late: refused, and nothing changes.
            results_before = store.bench_results()
            late = httpx.post(
                f"{server.url}/api/agents/{ids[holder]}/jobs/{slow.id}/result",
                headers={"Authorization": f"Bearer {secrets[holder]}"},
                json={"warmup": 1, "runs": 3, "p50_ms": 1.0, "p90_ms": 1.0, "estimate_12mp_ms": 9},
            )
            assert late.status_code == 409, late.text
            assert late.json()["error"] == "conflict" and "it is done" in late.json()["detail"]
            impostor = httpx.post(
                f"{server.url}/api/agents/{ids[other]}/jobs/{slow.id}/failure",
                headers={"Authorization": f"Bearer {secrets[holder]}"},
                json={"error": "not mine to report"},
            )
            assert impostor.status_code == 403, impostor.text
            assert store.bench_results() == results_before
            assert store.bench_job(slow.id) == finished

            # The same model again on the same device: answered from the cache.
            again = enqueue(store, tiny[0])
            hit = wait_for("the cache hit", lambda: done(store, again.id))
            first = store.bench_job(tiny_jobs[0].id)
            assert hit.result is not None and first.result is not None
            assert hit.result.id == first.result.id and hit.attempts == 0

            # What the database holds: every job done, one result per distinct model.
            jobs = store.bench_jobs()
            assert [j.state for j in jobs] == [BenchJobState.DONE] * (TINY_JOBS + 2)
            assert len(store.bench_results()) == TINY_JOBS + 1
            lost = [j.id for j in jobs if j.result is None]
            assert lost == []
            assert {r.agent_id for r in store.bench_results()} <= set(ids.values())

            agents[other].send_signal(signal.SIGTERM)
            assert agents[other].wait(timeout=30) == 0
        finally:
            for name, process in agents.items():
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=30)
                # Shown by pytest only when the test fails.
                print(f"--- {name} (exit {process.returncode})")
                print((tmp_path / f"{name}.log").read_text(errors="replace")[-4000:])
    print(f"agents end to end: {time.perf_counter() - started:.1f} s")


def _leased(store: CampaignStore, job_id: int) -> BenchJob | None:
    job = store.bench_job(job_id)
    return job if job.state is BenchJobState.LEASED else None


def test_a_coreml_agent_on_linux_exits_2_with_the_reason(tmp_path: Path) -> None:
    if sys.platform == "darwin":
        pytest.skip("Core ML runs on macOS")
    completed = subprocess.run(
        [str(CODECNAS), "agent", "--backend", "coreml", "--server", "http://127.0.0.1:9",
         "--token", "cnas_not-checked-before-the-backend"],
        check=False, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    output = " ".join((completed.stdout + completed.stderr).split())
    assert completed.returncode == 2, output
    assert "runs only on macOS" in output and "'onnxruntime' backend" in output


def test_a_placeholder_token_is_refused_at_start() -> None:
    from codecnas.cli import app  # in-process: the check runs before any backend or network

    result = CliRunner().invoke(
        app, ["agent", "--server", "http://127.0.0.1:9", "--token", "CHANGE_ME"]
    )
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert "placeholder" in output and "codecnas token create --role agent" in output


def test_an_unknown_token_is_refused_by_the_server(
    sqlite_store: CampaignStore, tmp_path: Path
) -> None:
    from codecnas.cli import app

    with LiveServer(create_app(dashboard_settings(tmp_path), sqlite_store)) as server:
        result = CliRunner().invoke(
            app, ["agent", "--server", server.url, "--token", "cnas_unknown", "--max-jobs", "1"]
        )
    output = " ".join(result.output.split())
    assert result.exit_code == 1, output
    assert "the server refused" in output and "401" in output
    assert sqlite_store.bench_agents() == []
