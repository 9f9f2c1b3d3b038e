"""The JobBoard of a separate agent process: the codecnas server's agent API over HTTP (httpx).

Statuses become the agent's errors: a connection failure or 502/503/504 is BoardUnavailable
(retried by the agent), 409 is LeaseLost (the job is no longer this agent's), any other error
status is BoardError with the server's JSON detail.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx

from device_bench.agent_protocol import (
    AgentDescription,
    BoardError,
    BoardUnavailable,
    JobReport,
    JobTicket,
    LeaseLost,
)

_TRANSIENT_STATUSES = {502, 503, 504}


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return str(body)[:500]


class HttpJobBoard:
    """Talks to `server` (e.g. http://127.0.0.1:8000) with `token` as a Bearer token."""

    def __init__(self, server: str, token: str, *, timeout: float = 60.0) -> None:
        self.server = server.rstrip("/")
        self._client = httpx.Client(
            base_url=self.server,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        try:
            response = self._client.request(method, path, json=body)
        except httpx.TransportError as error:
            raise BoardUnavailable(
                f"{method} {self.server}{path}: {type(error).__name__}: {error}"
            ) from error
        if response.status_code < 400:
            return response
        message = f"{method} {self.server}{path}: {response.status_code} {_detail(response)}"
        if response.status_code in _TRANSIENT_STATUSES:
            raise BoardUnavailable(message)
        if response.status_code == 409:
            raise LeaseLost(message)
        raise BoardError(message)

    def register(self, description: AgentDescription) -> int:
        return int(self._request("POST", "/api/agents", description.to_json()).json()["id"])

    def lease(self, agent_id: int, lease_seconds: float) -> JobTicket | None:
        response = self._request(
            "POST", f"/api/agents/{agent_id}/lease", {"lease_seconds": lease_seconds}
        )
        if response.status_code == 204:
            return None
        job = response.json()
        return JobTicket(
            id=int(job["id"]),
            model_sha256=str(job["model_sha256"]),
            model_format=str(job["model_format"]),
            part=str(job["part"]),
            precision=str(job["precision"]),
            tile=int(job["tile"]),
        )

    def renew(self, agent_id: int, job_id: int, lease_seconds: float) -> None:
        path = f"/api/agents/{agent_id}/jobs/{job_id}/renew"
        self._request("POST", path, {"lease_seconds": lease_seconds})

    def fetch_model(self, sha256: str) -> bytes:
        return self._request("GET", f"/api/bench/models/{sha256}").content

    def post_result(self, agent_id: int, job_id: int, report: JobReport) -> None:
        self._request("POST", f"/api/agents/{agent_id}/jobs/{job_id}/result", report.to_json())

    def post_failure(self, agent_id: int, job_id: int, error: str) -> None:
        path = f"/api/agents/{agent_id}/jobs/{job_id}/failure"
        self._request("POST", path, {"error": error[:20_000]})
