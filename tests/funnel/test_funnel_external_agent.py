"""DONE WHEN: a funnel campaign on the embedded default (SQLite, local Ray) whose measurements
come from an ONNX Runtime agent in a separate process.

The API runs on loopback (the app `codecnas serve` runs), one `codecnas agent` process measures,
and `codecnas campaign launch` runs the funnel in another process; `codecnas campaign status`
then shows each stage's counts.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from codecnas.funnel_measure import decoder_onnx
from nas.bench_domain import BenchJobState
from nas.domain import TrialState
from nas.funnel.domain import STAGES
from nas.storage import CampaignStore
from nas.storage.access import Role
from search_spaces import get_space
from tests.dashboard.conftest import dashboard_settings
from tests.dashboard.live_server import LiveServer
from tests.funnel.helpers import funnel_spec

CODECNAS = Path(sys.executable).with_name("codecnas")


def _agent(server: str, token: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    command = [
        str(CODECNAS), "agent", "--backend", "onnxruntime", "--server", server, "--token", token,
        "--name", "external-ort", "--warmup", "1", "--runs", "3", "--poll-seconds", "0.2",
        "--cache-dir", str(tmp_path / "agent-cache"),
    ]  # fmt: skip
    log = (tmp_path / "agent.log").open("wb")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def _probe_ms(store: CampaignStore) -> float:
    probe = {"channels": 32, "stages": 3, "block": "conv", "activation": "relu"}
    probe |= {"latent_channels": 48, "hyperprior": True}
    model = store.put_model_artifact(decoder_onnx(get_space("basic"), probe, tile=64))
    job = store.enqueue_bench_job(
        model_sha256=model, model_format="onnx", part="decoder", backend="onnxruntime", tile=64
    )
    deadline = time.monotonic() + 60
    while not (job := store.bench_job(job.id)).state.is_finished:
        assert time.monotonic() < deadline, "the agent did not measure the probe in 60 s"
        time.sleep(0.1)
    assert job.result is not None, job.error
    return job.result.estimate_12mp_ms


@pytest.mark.slow
def test_a_funnel_campaign_measured_by_an_agent_in_another_process(tmp_path: Path) -> None:
    from dashboard import create_app

    env = {
        **os.environ,
        "CODECNAS_HOME": str(tmp_path / "home"),
        "CODECNAS_ARTIFACTS": str(tmp_path / "artifacts"),
    }
    url = f"sqlite:///{tmp_path / 'codecnas.sqlite'}"
    store = CampaignStore(url, tmp_path / "artifacts")
    _, token = store.create_token("agent", Role.AGENT)
    app = create_app(dashboard_settings(tmp_path), store)
    with LiveServer(app) as server:
        agent = _agent(server.url, token, tmp_path)
        try:
            # The target: what the agent measures for a mid-sized config.
            spec = funnel_spec(_probe_ms(store), name="funnel-external")
            spec["benchmark"]["agents"] = "external"
            spec["budget"]["parallel"] = 2
            spec_path = tmp_path / "funnel.yaml"
            spec_path.write_text(yaml.safe_dump(spec))
            launch = subprocess.run(
                [str(CODECNAS), "campaign", "launch", str(spec_path), "--db", url],
                check=False, env=env, capture_output=True, text=True, timeout=240,
            )  # fmt: skip
        finally:
            agent.terminate()
            agent.wait(timeout=30)
    assert launch.returncode == 0, launch.stdout + launch.stderr

    campaign = store.campaign("funnel-external")
    stages = store.funnel_stages(campaign.id)
    assert [s.stage for s in stages] == list(STAGES)
    for before, after in itertools.pairwise(stages):
        assert after.n_in == before.n_out
    assert stages[-1].n_out >= 1
    # Every measurement came from the agent process, through the queue.
    jobs = store.bench_jobs(campaign_id=campaign.id)
    assert len(jobs) >= 3 + stages[2].details["measured"] - stages[2].details["failed"]
    assert all(j.state is BenchJobState.DONE for j in jobs)
    agents = {a.id: a for a in store.bench_agents()}
    assert {agents[j.result.agent_id].name for j in jobs if j.result} == {"external-ort"}
    full = [t for t in store.trials(campaign.id) if t.rung == 1]
    assert any(t.state == TrialState.COMPLETE for t in full)
    assert store.front(campaign.id)

    status = subprocess.run(
        [str(CODECNAS), "campaign", "status", "funnel-external", "--db", url],
        check=False, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    for s in stages:
        assert s.stage in status.stdout and f"{s.n_in:,}" in status.stdout
    store.close()
