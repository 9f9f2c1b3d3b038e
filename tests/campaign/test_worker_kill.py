"""Fault: a Ray worker process killed with SIGKILL in the middle of a trial."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from nas.domain import TrialState
from nas.storage.repository import CampaignStore
from tests.conftest import tiny_spec

pytestmark = pytest.mark.slow

TASK_TITLE = b"ray::_run_trial_task"


def _trial_worker_pids() -> list[int]:
    """Ray names a worker process after the task it runs: find ours in /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cmdline").read_bytes().startswith(TASK_TITLE):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def test_killed_worker_is_retried_and_nothing_is_lost(tmp_path):
    home = tmp_path / "home"
    spec = tiny_spec(budget={"trials": 3, "parallel": 1, "max_attempts": 2}, training={"steps": 60})
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    env = dict(os.environ, CODECNAS_HOME=str(home), RAY_USAGE_STATS_ENABLED="0")
    env.pop("CODECNAS_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "codecnas.cli", "campaign", "launch", str(spec_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    store = None
    killed_trial = None
    try:
        deadline = time.monotonic() + 300
        while killed_trial is None and time.monotonic() < deadline:
            time.sleep(0.5)
            if not (home / "codecnas.sqlite").exists():
                continue
            store = store or CampaignStore(
                f"sqlite:///{home / 'codecnas.sqlite'}", home / "artifacts"
            )
            if not store.campaigns():
                continue
            trials = store.trials(store.campaign("tiny").id)
            done = [t for t in trials if t.state == TrialState.COMPLETE]
            running = [t for t in trials if t.state == TrialState.RUNNING]
            pids = _trial_worker_pids()
            if done and running and pids:
                time.sleep(1.0)  # well inside the trial's training
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                killed_trial = running[0]
        assert killed_trial is not None, "never saw a finished and a running trial together"
        output, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, output.decode(errors="replace")
    assert store is not None
    after = {t.id: t for t in store.trials(store.campaign("tiny").id)}
    assert len(after) == 3
    assert all(t.state == TrialState.COMPLETE for t in after.values()), [
        t.error for t in after.values()
    ]
    assert after[killed_trial.id].attempts == 2
    assert sum(t.attempts for t in after.values()) == 4, "only the killed trial ran twice"
