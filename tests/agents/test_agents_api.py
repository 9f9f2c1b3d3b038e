"""The agent API in-process (TestClient) on SQLite and Postgres: roles, ownership, 204/409."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard import create_app
from nas.bench_domain import BenchJobState
from nas.storage import CampaignStore
from nas.storage.access import Role
from tests.dashboard.conftest import dashboard_settings

DEVICE = {
    "name": "lab-agent",
    "device": "linux-x86_64-test",
    "device_model": "Test CPU",
    "os": "Linux 6.8",
    "runtime": "onnxruntime",
    "runtime_version": "1.23.0",
    "compute_units": "cpu",
    "backend": "onnxruntime",
}
RESULT = {"warmup": 1, "runs": 3, "p50_ms": 2.0, "p90_ms": 3.0, "estimate_12mp_ms": 96.0}


@pytest.fixture
def client(store: CampaignStore, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(dashboard_settings(tmp_path), store)) as test_client:
        yield test_client


def bearer(store: CampaignStore, name: str, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {store.create_token(name, role)[1]}"}


def register(client: TestClient, headers: dict[str, str]) -> int:
    response = client.post("/api/agents", json=DEVICE, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_an_agent_registers_leases_downloads_renews_and_reports(
    client: TestClient, store: CampaignStore, model_sha256: str
) -> None:
    agent = bearer(store, "agent", Role.AGENT)
    agent_id = register(client, agent)
    stored = store.bench_agent(agent_id)
    assert stored.device == "linux-x86_64-test" and stored.description["os"] == "Linux 6.8"
    assert client.post(f"/api/agents/{agent_id}/lease", headers=agent).status_code == 204

    job = store.enqueue_bench_job(
        model_sha256=model_sha256, model_format="onnx", part="decoder", backend="onnxruntime"
    )
    leased = client.post(f"/api/agents/{agent_id}/lease", json={"lease_seconds": 30}, headers=agent)
    assert leased.status_code == 200 and leased.json()["id"] == job.id
    model = client.get(leased.json()["model_url"], headers=agent)
    assert model.content == store.model_artifact_path(model_sha256).read_bytes()
    renew = client.post(f"/api/agents/{agent_id}/jobs/{job.id}/renew", headers=agent)
    assert renew.status_code == 200 and renew.json()["state"] == "leased"

    posted = client.post(f"/api/agents/{agent_id}/jobs/{job.id}/result", json=RESULT, headers=agent)
    assert posted.status_code == 200, posted.text
    assert posted.json()["result"]["p50_ms"] == 2.0
    assert store.bench_job(job.id).state is BenchJobState.DONE

    again = client.post(f"/api/agents/{agent_id}/jobs/{job.id}/result", json=RESULT, headers=agent)
    assert again.status_code == 409
    assert again.json() == {
        "error": "conflict",
        "detail": f"agent {agent_id} cannot complete bench job {job.id}: it is done, not leased",
    }
    assert len(store.bench_results()) == 1


def test_only_the_registering_token_acts_for_an_agent(
    client: TestClient, store: CampaignStore, model_sha256: str
) -> None:
    owner, stranger = bearer(store, "owner", Role.AGENT), bearer(store, "stranger", Role.ADMIN)
    viewer = bearer(store, "viewer", Role.VIEWER)
    agent_id = register(client, owner)
    job = store.enqueue_bench_job(
        model_sha256=model_sha256, model_format="onnx", part="decoder", backend="onnxruntime"
    )
    assert client.post(f"/api/agents/{agent_id}/lease", headers=owner).status_code == 200

    refused = client.post(
        f"/api/agents/{agent_id}/jobs/{job.id}/result", json=RESULT, headers=stranger
    )
    assert refused.status_code == 403 and "another token" in refused.json()["detail"]
    assert client.post("/api/agents", json=DEVICE, headers=viewer).status_code == 403
    assert client.post("/api/agents", json=DEVICE).status_code == 401
    assert client.get(f"/api/bench/models/{model_sha256}", headers=viewer).status_code == 403
    # Another agent (another token) posting for a job it does not hold: 409, nothing written.
    intruder_id = register(client, stranger)
    wrong = client.post(
        f"/api/agents/{intruder_id}/jobs/{job.id}/result", json=RESULT, headers=stranger
    )
    assert wrong.status_code == 409
    assert f"it is leased to agent {agent_id}" in wrong.json()["detail"]
    assert store.bench_results() == [] and store.bench_job(job.id).state is BenchJobState.LEASED


def test_bad_bodies_are_refused_by_name(
    client: TestClient, store: CampaignStore, model_sha256: str
) -> None:
    agent = bearer(store, "agent", Role.AGENT)
    agent_id = register(client, agent)
    job = store.enqueue_bench_job(
        model_sha256=model_sha256, model_format="onnx", part="decoder", backend="onnxruntime"
    )
    client.post(f"/api/agents/{agent_id}/lease", headers=agent)
    url = f"/api/agents/{agent_id}/jobs/{job.id}/result"
    negative = client.post(url, json={**RESULT, "p50_ms": -1}, headers=agent)
    assert negative.status_code == 422 and "p50_ms" in negative.json()["detail"]
    inverted = client.post(url, json={**RESULT, "p90_ms": 1.0}, headers=agent)
    assert inverted.status_code == 422 and "below p50_ms" in inverted.json()["detail"]
    missing = client.get(f"/api/bench/models/{'0' * 64}", headers=agent)
    assert missing.status_code == 404
    # Stored content that no bench job measures is not served, even by its digest.
    other = store.put_model_artifact(b"a checkpoint, say")
    hidden = client.get(f"/api/bench/models/{other}", headers=agent)
    assert hidden.status_code == 404 and "no bench job" in hidden.json()["detail"]
    assert store.bench_job(job.id).state is BenchJobState.LEASED
