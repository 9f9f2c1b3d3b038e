"""The benchmark agent protocol over HTTP.

An agent registers with a token of role agent (or admin) and describes its device; it leases a
job (204 when there is none), downloads the model by content hash, renews its lease while it
measures, and posts the result or a failure. Only the token that registered an agent may act for
it (403); a result for a job that is not leased to that agent (lease expired and taken by another,
already done...) is 409 with the reason, and nothing is written.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Response
from fastapi.responses import FileResponse

from dashboard.api.params import MAX_ID
from dashboard.auth import require
from dashboard.deps import app_store
from dashboard.schemas.agents import (
    AgentIn,
    AgentOut,
    BenchFailureIn,
    BenchJobOut,
    BenchResultIn,
    LeaseIn,
)
from dashboard.schemas.common import ERROR_RESPONSES
from nas.bench_domain import AgentRecord
from nas.storage import CampaignStore
from nas.storage.access import Role, TokenRecord

router = APIRouter(tags=["agents"], responses=ERROR_RESPONSES)
agent_token = require(Role.AGENT, Role.ADMIN)

AgentId = Annotated[int, Path(ge=1, le=MAX_ID, description="agent id")]
JobId = Annotated[int, Path(ge=1, le=MAX_ID, description="benchmark job id")]
NO_JOB: dict[int | str, dict[str, Any]] = {
    204: {"description": "no job for this agent's backend right now: ask again later"}
}


def _own_agent(store: CampaignStore, agent_id: int, token: TokenRecord) -> AgentRecord:
    """The agent, if this token registered it; 403 for another token's agent."""
    agent = store.bench_agent(agent_id)
    if agent.token_id != token.id:
        raise HTTPException(
            403,
            f"agent {agent_id} was registered with another token; token {token.name!r} "
            "may act only for the agents it registered",
        )
    return agent


@router.post("/api/agents", response_model=AgentOut, status_code=201)
def register_agent(
    body: AgentIn,
    token: TokenRecord = Depends(agent_token),
    store: CampaignStore = Depends(app_store),
) -> AgentOut:
    """Register an agent; the returned id is used in every later call (with the same token)."""
    agent = store.register_agent(
        body.name, body.device, body.backend, body.description(), token_id=token.id
    )
    return AgentOut.of(agent)


@router.post("/api/agents/{agent_id}/lease", response_model=BenchJobOut, responses=NO_JOB)
def lease_job(
    agent_id: AgentId,
    body: LeaseIn = Body(default_factory=LeaseIn),
    token: TokenRecord = Depends(agent_token),
    store: CampaignStore = Depends(app_store),
) -> BenchJobOut | Response:
    """The next job of the agent's backend, leased to it for `lease_seconds`, or 204.

    Jobs whose model was already measured on this agent's device are answered from the cache
    and never handed out."""
    _own_agent(store, agent_id, token)
    job = store.lease_bench_job(agent_id, body.lease_seconds)
    if job is None:
        return Response(status_code=204)
    return BenchJobOut.of(job)


@router.post("/api/agents/{agent_id}/jobs/{job_id}/renew", response_model=BenchJobOut)
def renew_lease(
    agent_id: AgentId,
    job_id: JobId,
    body: LeaseIn = Body(default_factory=LeaseIn),
    token: TokenRecord = Depends(agent_token),
    store: CampaignStore = Depends(app_store),
) -> BenchJobOut:
    """Extend the agent's unexpired lease (409 if the job is not leased to it)."""
    _own_agent(store, agent_id, token)
    return BenchJobOut.of(store.renew_bench_lease(job_id, agent_id, body.lease_seconds))


@router.post("/api/agents/{agent_id}/jobs/{job_id}/result", response_model=BenchJobOut)
def post_result(
    agent_id: AgentId,
    job_id: JobId,
    body: BenchResultIn,
    token: TokenRecord = Depends(agent_token),
    store: CampaignStore = Depends(app_store),
) -> BenchJobOut:
    """Record the measurement of a job leased to this agent (409 otherwise: nothing stored)."""
    _own_agent(store, agent_id, token)
    return BenchJobOut.of(store.complete_bench_job(job_id, agent_id, body.measurement()))


@router.post("/api/agents/{agent_id}/jobs/{job_id}/failure", response_model=BenchJobOut)
def post_failure(
    agent_id: AgentId,
    job_id: JobId,
    body: BenchFailureIn,
    token: TokenRecord = Depends(agent_token),
    store: CampaignStore = Depends(app_store),
) -> BenchJobOut:
    """The agent could not measure the model; the job fails with its message."""
    _own_agent(store, agent_id, token)
    return BenchJobOut.of(store.fail_bench_job(job_id, agent_id, body.error))


@router.get(
    "/api/bench/models/{sha256}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the model"}},
)
def download_model(
    sha256: str = Path(pattern="^[0-9a-f]{64}$", description="SHA-256 of the model"),
    _token: TokenRecord = Depends(agent_token),
    store: CampaignStore = Depends(app_store),
) -> FileResponse:
    """The model bytes of a benchmark job, by content hash."""
    path = store.bench_model_path(sha256)
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=f"{sha256}.model",
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )
