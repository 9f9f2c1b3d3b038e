"""A real two-node Ray cluster on this machine (head + worker, token auth) running a campaign."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from nas.domain import TrialState
from nas.storage.repository import CampaignStore
from tests.conftest import tiny_spec
from workers.local_cluster import LocalCluster

pytestmark = pytest.mark.slow


def test_campaign_spreads_trials_over_both_nodes(tmp_path):
    home = tmp_path / "home"
    with LocalCluster(worker_nodes=1, cpus_per_node=1, head_cpus=1) as cluster:
        spec = tiny_spec(budget={"trials": 4, "parallel": 2}, cluster={"address": cluster.address})
        spec_path = tmp_path / "spec.yaml"
        spec_path.write_text(yaml.safe_dump(spec))
        env = dict(cluster.env, CODECNAS_HOME=str(home))
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
