"""The application's shared objects, put on ``app.state`` by create_app and read by routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from fastapi import Request

from nas.storage import CampaignStore

if TYPE_CHECKING:
    from dashboard.images import ImageService
    from dashboard.launcher import CampaignLauncher
    from dashboard.settings import DashboardSettings


def app_store(request: Request) -> CampaignStore:
    return cast(CampaignStore, request.app.state.store)


def app_settings(request: Request) -> DashboardSettings:
    return cast("DashboardSettings", request.app.state.settings)


def app_launcher(request: Request) -> CampaignLauncher:
    return cast("CampaignLauncher", request.app.state.launcher)


def app_images(request: Request) -> ImageService:
    return cast("ImageService", request.app.state.images)
