"""The database restarted under a running campaign: the controller waits, then goes on.

A real PostgreSQL 15 of our own is stopped (fast shutdown: every connection is terminated) while
a controller process runs a campaign with a real (tiny) trial function, and started again 5 s
later. The campaign must finish with every trial stored once: 0 lost, none twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from nas.domain import TrialState
from nas.pareto import compute_front
from nas.spec import parse_spec
from nas.storage.repository import CampaignStore
from nas.storage.retrying import DatabaseUnavailable
from tests.conftest import tiny_spec
from tests.faults.postgres_server import PostgresServer, postgres_bindir

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 10


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (/usr/lib/postgresql/*/bin)")
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.remove()


def _count_complete(url: str, tmp_path: Path, campaign_id: int) -> int:
    with CampaignStore(url, tmp_path / "artifacts") as store:
        return store.count_trials(campaign_id)[TrialState.COMPLETE]


@pytest.mark.slow
def test_campaign_survives_a_database_restart(postgres: PostgresServer, tmp_path: Path) -> None:
    spec = parse_spec(tiny_spec(budget={"trials": BUDGET, "parallel": 1}))
    with CampaignStore(postgres.url, tmp_path / "artifacts") as store:
        campaign = store.create_campaign(spec.name, spec.to_json())
    log = tmp_path / "executions.log"
    controller = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.controller_process", postgres.url,
         str(tmp_path / "artifacts"), "tiny", str(log), "0.4"],
        cwd=ROOT,
        env={**os.environ, "CODECNAS_LEASE_SECONDS": "3", "CODECNAS_DB_RETRY_SECONDS": "60"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while _count_complete(postgres.url, tmp_path, campaign.id) < 3:
            assert time.monotonic() < deadline and controller.poll() is None, "no progress"
            time.sleep(0.2)
        postgres.stop("fast")
        time.sleep(5)
        assert controller.poll() is None, "the controller gave up while the database was down"
        postgres.start()
        output = controller.communicate(timeout=90)[0].decode()
    finally:
        if controller.poll() is None:
            controller.kill()
    assert controller.returncode == 0, output
    assert "unavailable" in output, "the outage was not noticed (test did not test anything)"

    runs = Counter(int(line.split()[0]) for line in log.read_text().splitlines())
    with CampaignStore(postgres.url, tmp_path / "artifacts") as store:
        trials = store.trials(campaign.id)
        front = sorted(t.id for t in store.front(campaign.id))
    assert len(trials) == BUDGET, "trials lost or created twice"
    assert all(t.state == TrialState.COMPLETE for t in trials), [t.state for t in trials]
    assert all(len(t.metrics) == 3 for t in trials), "a result was lost or half-stored"
    print("executions per trial number:", dict(runs), "log:", output[-600:])
    assert sorted(runs) == list(range(BUDGET)) and set(runs.values()) == {1}, runs
    assert front == sorted(compute_front(trials, spec.objectives).trial_ids)


def test_a_database_that_stays_down_gives_a_clear_error(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.url.replace("postgres@", "postgres:s3cret@")  # trust auth ignores it
    with CampaignStore(url, tmp_path / "artifacts") as store:
        store.create_campaign("down", {})
        store._db.retry_seconds = 1.5
        postgres.stop("immediate")
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable) as caught:
            store.campaign("down")
        assert 1.0 < time.monotonic() - started < 10
    message = str(caught.value)
    assert "unavailable for more than 1.5 s" in message and "s3cret" not in message
    assert f"postgres:***@127.0.0.1:{postgres.port}" in message, message
