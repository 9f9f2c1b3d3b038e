"""Two controller processes on one campaign: every trial runs exactly once, budget respected.

Real processes (tests/faults/controller_process.py), real SQLite or Postgres; each trial appends a
line to an execution log, so "ran once" is counted from what ran, not only from what is stored.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from nas.domain import TrialState
from nas.pareto import compute_front
from nas.spec import parse_spec
from nas.storage.repository import CampaignStore
from tests.conftest import tiny_spec

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 12


def _start_controller(url: str, tmp_path: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.controller_process", url,
         str(tmp_path / "artifacts"), "tiny", str(log), "0.3"],
        cwd=ROOT,
        env={**os.environ, "CODECNAS_LEASE_SECONDS": "3"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_two_controllers_run_each_trial_once(any_database_url: str, tmp_path: Path) -> None:
    spec = parse_spec(
        tiny_spec(
            budget={"trials": BUDGET, "parallel": 2},
            sampler={"kind": "tpe", "seed": 3, "startup_trials": 4},
        )
    )
    with CampaignStore(any_database_url, tmp_path / "artifacts") as store:
        campaign = store.create_campaign(spec.name, spec.to_json())
    log = tmp_path / "executions.log"
    controllers = [_start_controller(any_database_url, tmp_path, log) for _ in range(2)]
    outputs = [c.communicate(timeout=120)[0].decode() for c in controllers]
    assert [c.returncode for c in controllers] == [0, 0], outputs

    executions = [line.split() for line in log.read_text().splitlines()]
    runs = Counter(int(number) for number, *_ in executions)
    pids = {pid for *_, pid in executions}
    with CampaignStore(any_database_url, tmp_path / "artifacts") as store:
        trials = store.trials(campaign.id)
        front = sorted(t.id for t in store.front(campaign.id))
    assert len(trials) == BUDGET, "budget not respected"
    assert sorted(runs) == list(range(BUDGET)) and set(runs.values()) == {1}, runs
    assert all(t.state == TrialState.COMPLETE and t.attempts == 1 for t in trials)
    assert len({t.config_hash for t in trials}) == BUDGET, "a config was run twice"
    assert len(pids) == 2, "both controllers should have run trials"
    assert front == sorted(compute_front(trials, spec.objectives).trial_ids)
