"""A real two-node Ray cluster on this machine (head + worker, token auth) running a campaign."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from nas.domain import TrialState
from nas.storage.repository import CampaignStore
from tests.conftest import tiny_spec

pytestmark = pytest.mark.slow

RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_node(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """`ray start --block` in its own session, so the node (and only it) can be killed as a group;
    `ray stop` would stop every Ray on the machine, including other runs'."""
    return subprocess.Popen(
        [str(RAY), "start", "--block", "--num-cpus=1", "--disable-usage-stats", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_for_nodes(address: str, env: dict[str, str], count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    output = ""
    while time.monotonic() < deadline:
        result = subprocess.run(
            [str(RAY), "status", f"--address={address}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        output = result.stdout + result.stderr
        if result.returncode == 0 and output.count("node_") >= count:
            return
        time.sleep(2)
    pytest.fail(f"the Ray cluster at {address} did not reach {count} nodes:\n{output}")


@pytest.fixture
def two_node_cluster():
    # Ray 2.60 needs RAY_AUTH_MODE=token on every `ray start` for a multi-node cluster.
    env = dict(
        os.environ,
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN=secrets.token_hex(16),
        RAY_USAGE_STATS_ENABLED="0",
    )
    port = _free_port()
    address = f"127.0.0.1:{port}"
    # Unix socket paths are limited to 107 bytes: pytest's tmp_path is too deep for Ray's.
    temp = Path(tempfile.mkdtemp(prefix="cnas-ray-"))
    head = ["--head", f"--port={port}", f"--temp-dir={temp}", "--include-dashboard=false"]
    nodes = [_start_node(env, *head)]
    try:
        _wait_for_nodes(address, env, 1)
        nodes.append(_start_node(env, f"--address={address}"))
        _wait_for_nodes(address, env, 2)
        yield address, env
    finally:
        for node in reversed(nodes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGKILL)
            node.wait()
        shutil.rmtree(temp, ignore_errors=True)


def test_campaign_spreads_trials_over_both_nodes(tmp_path, two_node_cluster):
    address, env = two_node_cluster
    home = tmp_path / "home"
    spec = tiny_spec(budget={"trials": 4, "parallel": 2}, cluster={"address": address})
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    env = dict(env, CODECNAS_HOME=str(home))
    env.pop("CODECNAS_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "codecnas.cli", "campaign", "launch", str(spec_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    store = CampaignStore(f"sqlite:///{home / 'codecnas.sqlite'}", home / "artifacts")
    trials = store.trials(store.campaign("tiny").id)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 4, [t.error for t in trials]
    nodes = {t.worker.split()[1] for t in trials if t.worker}
    assert len(nodes) == 2, f"trials ran on {nodes}, expected both nodes"
