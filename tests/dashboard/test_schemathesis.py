"""Property-based run of the whole OpenAPI schema (schemathesis, in-process ASGI): no request
that the schema allows, with or without an admin token, gets a server error, and every answer
matches its documented status, content type and body schema."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from dashboard import create_app
from nas.storage import CampaignStore
from nas.storage.access import Role
from tests.dashboard.conftest import dashboard_settings
from tests.dashboard.populate import populate

EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, image_cache: Path
) -> Iterator[tuple[FastAPI, str]]:
    folder = tmp_path_factory.mktemp("fuzz")
    store = CampaignStore(f"sqlite:///{folder / 'db.sqlite'}", folder / "artifacts")
    populate(store, n_trials=4)
    _, secret = store.create_token("fuzzer", Role.ADMIN)
    # Launches start a process that ends at once: the fuzzer may launch many.
    app = create_app(
        dashboard_settings(
            folder,
            campaign_command=(sys.executable, "-c", "pass"),
            cache_dir=image_cache,
            anchor_cache=image_cache,
        ),
        store,
    )
    yield app, secret
    app.state.launcher.shutdown(stop_runs=True)
    store.close()


def test_no_server_errors_and_documented_answers(fuzzed: tuple[FastAPI, str]) -> None:
    """Each operation gets a bounded, derandomized batch of generated requests (the pytest
    plugin of schemathesis does not run on pytest 9 yet, so hypothesis drives it directly)."""
    app, secret = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    admin = {"Authorization": f"Bearer {secret}"}
    failures: dict[str, str] = {}
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            # No shrinking: a failure is reported as found, which keeps the run bounded.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            # Anonymous first (a refusal changes nothing), then with an admin token.
            case.call_and_validate(checks=CHECKS)
            case.call_and_validate(headers=admin, checks=CHECKS)

        started = time.perf_counter()
        try:
            check()
        except Exception as error:  # noqa: BLE001 - collect every operation's failure
            failures[operation.label] = f"{type(error).__name__}: {error}"[:2000]
        print(f"{operation.label}: {time.perf_counter() - started:.1f} s")
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
