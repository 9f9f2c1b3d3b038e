"""Every route that changes something needs a token with the right role; a refusal changes
nothing. Reads are open or token-protected, as the server is set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dashboard import create_app
from nas.storage import CampaignStore
from tests.dashboard.conftest import Shared, Tokens, dashboard_settings
from tests.dashboard.populate import campaign_spec


@dataclass(frozen=True)
class Mutation:
    method: str
    path: str  # {cid} and {tid} are filled in
    allowed: tuple[str, ...]  # roles that may call it
    body: dict[str, Any] | None = None


MUTATIONS = [
    Mutation(
        "POST", "/api/campaigns", ("admin",), {"spec": campaign_spec("fresh", 2), "launch": True}
    ),
    Mutation("POST", "/api/campaigns/{cid}/launch", ("admin",)),
    Mutation("POST", "/api/campaigns/{cid}/resume?force=true", ("admin",)),
    Mutation("POST", "/api/campaigns/{cid}/stop", ("admin",)),
    Mutation(
        "POST",
        "/api/campaigns/{cid}/ratings",
        ("admin", "viewer"),
        {"image": "chelsea", "first": "trial:{tid}", "second": "jpeg", "outcome": "first"},
    ),
    Mutation("POST", "/api/campaigns/{cid}/ratings/apply", ("admin",)),
    # Benchmark agents (tests/agents): refused before the agent or job is looked up.
    Mutation("POST", "/api/agents", ("admin", "agent")),
    Mutation("POST", "/api/agents/{agent_id}/lease", ("admin", "agent")),
    Mutation("POST", "/api/agents/{agent_id}/jobs/{job_id}/renew", ("admin", "agent")),
    Mutation("POST", "/api/agents/{agent_id}/jobs/{job_id}/result", ("admin", "agent")),
    Mutation("POST", "/api/agents/{agent_id}/jobs/{job_id}/failure", ("admin", "agent")),
]
# Routes that change nothing on the server (the login cookie lives in the browser).
STATELESS = {("POST", "/api/session"), ("DELETE", "/api/session")}


def snapshot(store: CampaignStore) -> object:
    campaigns = store.campaigns()
    return (
        [(c.id, c.name, c.status, c.spec) for c in campaigns],
        {
            c.id: [(t.id, t.state, t.metrics, t.objectives) for t in store.trials(c.id)]
            for c in campaigns
        },
        {c.id: store.ratings(c.id) for c in campaigns},
        [(t.id, t.role, t.revoked_at) for t in store.tokens()],
    )


def _fill(value: Any, cid: int, tid: int) -> Any:
    if isinstance(value, str):
        return value.replace("{cid}", str(cid)).replace("{tid}", str(tid))
    if isinstance(value, dict):
        return {k: _fill(v, cid, tid) for k, v in value.items()}
    return value


def test_the_list_of_mutating_routes_is_complete(shared: Shared) -> None:
    paths = shared.client.get("/openapi.json").json()["paths"]
    declared = {
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if method not in ("get", "head")
    }
    tested = {(m.method, m.path.split("?")[0].replace("{cid}", "{campaign_id}")) for m in MUTATIONS}
    assert declared == tested | STATELESS


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: f"{m.method} {m.path}")
def test_refused_calls_get_401_or_403_and_change_nothing(
    shared: Shared, mutation: Mutation
) -> None:
    cid = shared.populated.campaign.id
    tid = shared.populated.trials[0].id
    path = _fill(mutation.path, cid, tid)
    body = _fill(mutation.body, cid, tid)
    before = snapshot(shared.store)
    attempts: list[tuple[dict[str, str], int]] = [
        ({}, 401),
        ({"Authorization": "Bearer cnas_not-a-real-token"}, 401),
        ({"Authorization": "Basic YWRhOnB3"}, 401),
    ]
    attempts += [
        (shared.tokens.header(role), 403)
        for role in ("admin", "viewer", "agent")
        if role not in mutation.allowed
    ]
    for headers, status in attempts:
        response = shared.client.request(mutation.method, path, json=body, headers=headers)
        assert response.status_code == status, (headers, response.text)
        assert response.json()["error"] in ("unauthorized", "forbidden")
        if status == 401:
            assert response.headers.get("www-authenticate") == "Bearer"
    assert snapshot(shared.store) == before
    launcher = shared.client.app.state.launcher  # type: ignore[attr-defined]
    assert all(launcher.info(c.id) is None for c in shared.store.campaigns())


def test_a_revoked_token_is_refused(shared: Shared, tmp_path: Path) -> None:
    record, secret = shared.store.create_token("gone", "admin")
    shared.store.revoke_token(record.id)
    response = shared.client.post(
        f"/api/campaigns/{shared.populated.campaign.id}/ratings/apply",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_reads_are_open_by_default(shared: Shared) -> None:
    assert shared.client.get("/api/campaigns").status_code == 200
    who = shared.client.get("/api/session").json()
    assert who == {"authenticated": False, "name": None, "role": None, "read_requires_token": False}


def test_protected_reads_need_a_token_by_header_or_login_cookie(
    store: CampaignStore, tokens: Tokens, tmp_path: Path
) -> None:
    settings = dashboard_settings(tmp_path, read_requires_token=True)
    with TestClient(create_app(settings, store)) as client:
        refused = client.get("/api/campaigns")
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
        for role in ("viewer", "agent", "admin"):
            assert client.get("/api/campaigns", headers=tokens.header(role)).status_code == 200
        logged_in = client.post("/api/session", headers=tokens.header("viewer"))
        assert (
            logged_in.json()["name"] == "vic"
            and "httponly" in logged_in.headers["set-cookie"].lower()
        )
        assert client.get("/api/campaigns").status_code == 200  # the cookie now
        # The cookie never authorises a change (a cross-site form would send it).
        create = client.post("/api/campaigns", json={"spec": campaign_spec("by-cookie", 2)})
        assert create.status_code == 401 and store.campaigns() == []
        client.delete("/api/session")
        assert client.get("/api/campaigns").status_code == 401
        # Pages are shells without data; their scripts meet the 401 and send people to log in.
        assert client.get("/").status_code == 200
