"""Blind pairwise rating bodies."""

from __future__ import annotations

from pydantic import BaseModel, Field

from nas.ratings import Outcome


class ContestantImage(BaseModel):
    contestant: str = Field(description="'trial:<id>', 'jpeg' or 'avif'")
    url: str
    bpp: float | None


class RatingPairOut(BaseModel):
    image: str
    first: ContestantImage
    second: ContestantImage


class RatingIn(BaseModel):
    image: str = Field(min_length=1, max_length=500)
    first: str = Field(min_length=1, max_length=64)
    second: str = Field(min_length=1, max_length=64)
    outcome: Outcome
    first_bpp: float | None = Field(default=None, ge=0, le=1000)
    second_bpp: float | None = Field(default=None, ge=0, le=1000)


class RatingStoredOut(BaseModel):
    id: int
    rater: str


class ScoreOut(BaseModel):
    contestant: str
    trial_id: int | None
    trial_number: int | None
    strength: float = Field(description="Bradley–Terry log-strength")
    elo: float
    wins: int
    losses: int
    ties: int
    games: int


class ScoresOut(BaseModel):
    ratings: int
    raters: int
    scores: list[ScoreOut]


class AppliedOut(BaseModel):
    metric: str
    trials: int
