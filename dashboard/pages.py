"""The dashboard's web pages: thin HTML shells whose scripts read the JSON API.

Pages carry no data, so they need no token themselves; a read-protected API answers their
scripts with 401, and the scripts send the reader to the login page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from codec.anchor_extrapolation import FOOTNOTE, MARKER
from dashboard.deps import app_store
from nas.errors import NotFoundError

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _page(
    request: Request, template: str, status_code: int = 200, **context: object
) -> HTMLResponse:
    settings = request.app.state.settings
    return TEMPLATES.TemplateResponse(
        request,
        template,
        status_code=status_code,
        context={
            "poll_seconds": settings.poll_seconds,
            "ratio_marker": MARKER,
            "ratio_footnote": FOOTNOTE,
            **context,
        },
    )


@router.get("/")
def campaigns_page(request: Request) -> HTMLResponse:
    return _page(request, "campaigns.html", title="Campaigns")


def _not_found(request: Request, error: NotFoundError) -> HTMLResponse:
    # An unknown id is a 404 page that says so, not an empty page that waits for data.
    return _page(request, "not_found.html", status_code=404, title="Not found", message=str(error))


@router.get("/campaigns/{campaign_id}")
def campaign_page(request: Request, campaign_id: int) -> HTMLResponse:
    try:
        app_store(request).campaign(campaign_id)
    except NotFoundError as error:
        return _not_found(request, error)
    return _page(request, "campaign.html", title="Campaign", campaign_id=campaign_id)


@router.get("/campaigns/{campaign_id}/rate")
def rate_page(request: Request, campaign_id: int) -> HTMLResponse:
    try:
        app_store(request).campaign(campaign_id)
    except NotFoundError as error:
        return _not_found(request, error)
    return _page(request, "rate.html", title="Blind rating", campaign_id=campaign_id)


@router.get("/trials/{trial_id}")
def trial_page(request: Request, trial_id: int) -> HTMLResponse:
    try:
        app_store(request).trial(trial_id)
    except NotFoundError as error:
        return _not_found(request, error)
    return _page(request, "trial.html", title="Trial", trial_id=trial_id)


@router.get("/compare")
def compare_page(request: Request) -> HTMLResponse:
    return _page(request, "compare.html", title="Compare trials")


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return _page(request, "login.html", title="Log in")
