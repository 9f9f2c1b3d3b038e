"""The dashboard app built in-process on SQLite (and on Postgres when a server URL is set)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from dashboard import DashboardSettings, create_app
from nas.storage import CampaignStore
from nas.storage.access import Role
from tests.dashboard.populate import Populated, populate
from tests.storage.conftest import BACKENDS, POSTGRES_SERVER_URL, _postgres_database

# A stand-in campaign process: it waits as a real run does, until it is interrupted (SIGINT).
# The stand-in takes SIGINT as the CLI does (codecnas.cli.accept_interrupts) even if the test
# process ignores or blocks it: both are inherited across exec, and a sleeping child would then
# outlive every stop. It leaves at once (os._exit): in the full suite a stand-in that raised
# KeyboardInterrupt printed it and then never ended, for a reason not found yet.
SLEEPING_CAMPAIGN = (
    sys.executable,
    "-c",
    "import os, signal, time\n"
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})\n"
    "signal.signal(signal.SIGINT, lambda *_: os._exit(130))\n"
    "time.sleep(120)",
)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'codecnas.sqlite'}"
        return
    yield from _postgres_database(POSTGRES_SERVER_URL)


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[CampaignStore]:
    opened = CampaignStore(database_url, tmp_path / "artifacts")
    yield opened
    opened.close()


def dashboard_settings(tmp_path: Path, **overrides: object) -> DashboardSettings:
    """Settings of a test app; pass ``cache_dir=image_cache`` to share encoded anchors."""
    values: dict[str, object] = {
        "cache_dir": tmp_path / "cache",
        "log_dir": tmp_path / "logs",
        "anchor_cache": tmp_path / "anchors",
        "campaign_command": SLEEPING_CAMPAIGN,
    }
    values.update(overrides)
    return DashboardSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def image_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of anchor encodings for the session: they depend only on image and bpp."""
    return tmp_path_factory.mktemp("image-cache")


@pytest.fixture
def settings(tmp_path: Path, image_cache: Path) -> DashboardSettings:
    return dashboard_settings(tmp_path, cache_dir=image_cache, anchor_cache=image_cache)


@pytest.fixture
def client(settings: DashboardSettings, store: CampaignStore) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client


@dataclass(frozen=True)
class Tokens:
    admin: str
    viewer: str
    agent: str

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture
def tokens(store: CampaignStore) -> Tokens:
    return Tokens(
        admin=store.create_token("ada", Role.ADMIN)[1],
        viewer=store.create_token("vic", Role.VIEWER)[1],
        agent=store.create_token("phone-agent", Role.AGENT)[1],
    )


@pytest.fixture
def watched(store: CampaignStore) -> Populated:
    """A finished campaign of 12 complete trials (some infeasible) and one failed trial."""
    return populate(store)


@dataclass(frozen=True)
class Shared:
    """One populated database and app for the read-only tests of a module."""

    store: CampaignStore
    client: TestClient
    populated: Populated
    tokens: Tokens


@pytest.fixture(scope="module", params=BACKENDS)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, image_cache: Path
) -> Iterator[Shared]:
    folder = tmp_path_factory.mktemp("shared")
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{folder / 'codecnas.sqlite'}"])
    else:
        urls = _postgres_database(POSTGRES_SERVER_URL)
    url = next(urls)
    opened = CampaignStore(url, folder / "artifacts")
    try:
        populated = populate(opened)
        tokens = Tokens(
            admin=opened.create_token("ada", Role.ADMIN)[1],
            viewer=opened.create_token("vic", Role.VIEWER)[1],
            agent=opened.create_token("phone-agent", Role.AGENT)[1],
        )
        settings = dashboard_settings(folder, cache_dir=image_cache, anchor_cache=image_cache)
        with TestClient(create_app(settings, opened)) as test_client:
            yield Shared(opened, test_client, populated, tokens)
    finally:
        opened.close()
        next(urls, None)  # drops the Postgres database
