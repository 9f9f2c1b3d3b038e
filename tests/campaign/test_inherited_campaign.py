"""A real campaign (in-process trials that train, evaluate and export) whose second trial
starts from the first: recorded with the trial, listed by the CLI's front table, and served to
the trial page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from codecnas.reports import front_table
from dashboard import create_app
from nas.controller import Controller
from nas.domain import TrialState
from nas.executor import InProcessExecutor
from nas.spec import parse_spec
from tests.conftest import tiny_spec
from tests.dashboard.conftest import dashboard_settings
from workers.trial_pipeline import run_trial

pytestmark = pytest.mark.slow


def test_the_second_trial_records_that_it_started_from_the_first(store, tmp_path):
    spec = parse_spec(tiny_spec(budget={"trials": 2, "parallel": 1}))
    campaign = store.create_campaign(spec.name, spec.to_json())
    Controller(store, campaign.id, InProcessExecutor(run_trial)).run()
    first, second = store.trials(campaign.id)
    assert first.state == second.state == TrialState.COMPLETE, [first.error, second.error]
    assert first.initialisation == {"kind": "scratch"}
    init = second.initialisation
    assert init is not None
    assert (init["kind"], init["trial_number"], init["config_hash"]) == (
        "trial",
        0,
        first.config_hash,
    )
    assert 0 < init["fraction"] <= 1
    assert init["exact"] + init["sliced"] + init["grown"] + init["fresh"] > 0

    console = Console(width=250, record=True)
    console.print(front_table(campaign, store.trials(campaign.id)))
    listed = console.export_text()
    assert "init from" in listed and f"trial 0, {init['fraction']:.0%}" in listed

    app = create_app(dashboard_settings(tmp_path), store)
    with TestClient(app) as client:
        detail = client.get(f"/api/trials/{second.id}").json()
        line = f"initialised from trial 0 ({first.config_hash[:8]}…), {init['fraction']:.0%}"
        assert detail["trial"]["initialised_from"] == f"{line} of parameters"
        assert client.get(f"/api/trials/{first.id}").json()["trial"]["initialised_from"] == (
            "from scratch"
        )
        page = client.get(f"/trials/{second.id}").text
        assert 'id="initialised-from"' in page
