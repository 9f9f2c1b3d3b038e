"""Creating, launching, stopping and resuming campaigns through the API (admin token).

Runs are real processes; here the campaign command is a stand-in that waits until interrupted
(SLEEPING_CAMPAIGN), so the tests check the process handling without training anything.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from nas.domain import CampaignStatus
from nas.storage import CampaignStore
from tests.dashboard.conftest import Tokens
from tests.dashboard.populate import campaign_spec


def _wait_until_stopped(client: TestClient, cid: int, timeout: float = 20.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/campaigns/{cid}/status").json()["run"]
        if not run["running"]:
            return run
        time.sleep(0.1)
    raise AssertionError(f"the run of campaign {cid} did not stop within {timeout} s")


def _command_line(pid: int, timeout: float = 10.0) -> list[bytes]:
    """The process's argv once exec has happened (read too early, /proc shows the parent's)."""
    deadline = time.monotonic() + timeout
    while True:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"runner" in argv or time.monotonic() > deadline:
            return argv
        time.sleep(0.05)


def test_create_validates_the_spec_and_names_what_is_wrong(
    client: TestClient, store: CampaignStore, tokens: Tokens
) -> None:
    spec = campaign_spec("fresh", 4)
    spec["training"] = {**spec["training"], "steps": -5}  # type: ignore[dict-item]
    bad = client.post("/api/campaigns", json={"spec": spec}, headers=tokens.header("admin"))
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_spec"
    assert "training.steps" in bad.json()["detail"] and "-5" in bad.json()["detail"]
    assert store.campaigns() == []
    good = client.post(
        "/api/campaigns", json={"spec": campaign_spec("fresh", 4)}, headers=tokens.header("admin")
    )
    assert good.status_code == 201, good.text
    created = good.json()["campaign"]
    assert created["status"] == "created" and created["run"] is None
    assert created["budget_trials"] == 4 and store.campaign("fresh").id == created["id"]
    again = client.post(
        "/api/campaigns", json={"spec": campaign_spec("fresh", 4)}, headers=tokens.header("admin")
    )
    assert again.status_code == 409 and "already exists" in again.json()["detail"]


def test_create_takes_the_yaml_text_of_a_spec_with_the_clis_errors(
    client: TestClient, store: CampaignStore, tokens: Tokens
) -> None:
    text = yaml.safe_dump(campaign_spec("from-yaml", 4))
    made = client.post("/api/campaigns", json={"spec": text}, headers=tokens.header("admin"))
    assert made.status_code == 201, made.text
    assert store.campaign("from-yaml").id == made.json()["campaign"]["id"]
    twice = text.replace("name: from-yaml", "name: twice\nname: again")
    bad = client.post("/api/campaigns", json={"spec": twice}, headers=tokens.header("admin"))
    assert bad.status_code == 422 and "key 'name' repeats" in bad.json()["detail"]
    assert [c.name for c in store.campaigns()] == ["from-yaml"]


def test_launch_runs_the_campaign_command_and_stop_interrupts_it(
    client: TestClient, store: CampaignStore, tokens: Tokens, tmp_path: Path
) -> None:
    admin = tokens.header("admin")
    cid = client.post(
        "/api/campaigns", json={"spec": campaign_spec("runner", 4)}, headers=admin
    ).json()["campaign"]["id"]
    launched = client.post(f"/api/campaigns/{cid}/launch", headers=admin)
    assert launched.status_code == 202, launched.text
    run = launched.json()["campaign"]["run"]
    assert run["running"] is True
    argv = _command_line(run["pid"])
    assert argv[-4:-1] == [b"runner", b"--db", store.url.encode()]
    assert Path(run["log"]).parent == tmp_path / "logs"
    twice = client.post(f"/api/campaigns/{cid}/launch", headers=admin)
    assert twice.status_code == 409 and "already running" in twice.json()["detail"]

    stopped = client.post(f"/api/campaigns/{cid}/stop", headers=admin)
    assert stopped.status_code == 202 and "stopping" in stopped.json()["message"]
    final = _wait_until_stopped(client, cid)
    assert final["exit_code"] != 0  # interrupted, as Ctrl-C would
    again = client.post(f"/api/campaigns/{cid}/stop", headers=admin)
    assert again.status_code == 409 and "no run started by this server" in again.json()["detail"]


def test_resume_follows_the_campaign_status(
    client: TestClient, store: CampaignStore, tokens: Tokens
) -> None:
    admin = tokens.header("admin")
    campaign = store.create_campaign("paused", campaign_spec("paused", 4))
    url = f"/api/campaigns/{campaign.id}"
    store.set_campaign_status(campaign.id, CampaignStatus.FINISHED)
    finished = client.post(f"{url}/resume", headers=admin)
    assert finished.status_code == 409 and "finished" in finished.json()["detail"]
    store.set_campaign_status(campaign.id, CampaignStatus.RUNNING)
    busy = client.post(f"{url}/resume", headers=admin)
    assert busy.status_code == 409 and "force=true" in busy.json()["detail"]
    launch = client.post(f"{url}/launch", headers=admin)
    assert launch.status_code == 409 and "use resume" in launch.json()["detail"]
    store.set_campaign_status(campaign.id, CampaignStatus.INTERRUPTED)
    resumed = client.post(f"{url}/resume", headers=admin)
    assert resumed.status_code == 202 and resumed.json()["campaign"]["run"]["running"]
    client.post(f"{url}/stop", headers=admin)
    _wait_until_stopped(client, campaign.id)
    store.set_campaign_status(campaign.id, CampaignStatus.RUNNING)
    forced = client.post(f"{url}/resume?force=true", headers=admin)
    assert forced.status_code == 202
    client.post(f"{url}/stop", headers=admin)
    _wait_until_stopped(client, campaign.id)


def test_shutting_the_server_down_interrupts_the_runs_it_started(
    store: CampaignStore, tokens: Tokens, tmp_path: Path
) -> None:
    from dashboard import create_app
    from tests.dashboard.conftest import dashboard_settings

    with TestClient(create_app(dashboard_settings(tmp_path), store)) as client:
        body = client.post(
            "/api/campaigns",
            json={"spec": campaign_spec("left", 4), "launch": True},
            headers=tokens.header("admin"),
        ).json()
        pid = body["campaign"]["run"]["pid"]
        assert "launched" in body["message"]
        os.kill(pid, 0)  # alive
    deadline = time.monotonic() + 20
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists()
