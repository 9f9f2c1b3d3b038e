"""The application factory: one FastAPI app serving the JSON API and the dashboard's pages.

Handed its settings and an open store (as optuna-dashboard's ``create_app``), so tests build it
in-process on any database, and ``codecnas serve`` builds it from the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from dashboard import pages
from dashboard.api import agents, artifacts, campaigns, front, images, ratings, session, trials
from dashboard.body_limit import BodySizeLimit, max_body_bytes_from_environment
from dashboard.errors import error_body, install_error_handlers
from dashboard.images import ImageService
from dashboard.launcher import CampaignLauncher
from dashboard.settings import DashboardSettings
from nas.storage import CampaignStore

STATIC_DIR = Path(__file__).parent / "static"
DESCRIPTION = """\
Watch a codec search, compare codecs by eye, and pull the best codec for a latency budget.

Reads are open or need any token (a server setting); every change needs a token with the right
role in `Authorization: Bearer <token>` (make one with `codecnas token create --role admin`).
Errors are JSON: `{"error": kind, "detail": what is wrong}`.
"""


def create_app(settings: DashboardSettings, store: CampaignStore) -> FastAPI:
    launcher = CampaignLauncher(
        settings.campaign_command, store.url, settings.log_dir, settings.campaign_env
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        launcher.shutdown(stop_runs=settings.stop_campaigns_on_shutdown)

    # FastAPIOffline: /docs and /redoc load Swagger UI and ReDoc from the installed package,
    # not from a CDN, so the API documentation works without internet too.
    app = FastAPIOffline(
        title="codecnas",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.launcher = launcher
    app.state.images = ImageService(settings.cache_dir, settings.anchor_cache)
    install_error_handlers(app)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Still JSON, and still naming the problem; the traceback goes to the server log.
        return JSONResponse(error_body("internal_error", f"{type(exc).__name__}: {exc}"), 500)

    for module in (campaigns, trials, front, images, artifacts, ratings, session, agents):
        app.include_router(module.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes_from_environment())
    return app
