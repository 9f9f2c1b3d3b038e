"""Path parameters shared by the routers, bounded so that no id overflows a database integer
(Postgres INTEGER is 32-bit; an out-of-range id is simply not found)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ID = 2_147_483_647

CampaignId = Annotated[int, Path(ge=1, le=MAX_ID, description="campaign id")]
TrialId = Annotated[int, Path(ge=1, le=MAX_ID, description="trial id")]
