"""Plain records of a funnel campaign: one row per stage, one per candidate config."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]

# The funnel's stages in order; a candidate's `stage_reached` is the last one it passed.
STAGES: tuple[str, ...] = ("screen", "predict", "measure", "proxy", "full")


def stage_position(stage: str) -> int:
    try:
        return STAGES.index(stage)
    except ValueError:
        raise ValueError(f"unknown funnel stage {stage!r}; stages: {list(STAGES)}") from None


@dataclass(frozen=True)
class FunnelStageRecord:
    """How many configs entered and left one stage, how long it took, and what it found."""

    stage: str
    position: int
    n_in: int
    n_out: int
    seconds: float
    details: JsonDict
    finished_at: dt.datetime | None = None


@dataclass(frozen=True)
class FunnelCandidate:
    """A config past the MACs screen: the furthest stage it reached and what the stages computed.

    `values` are merged when a later stage stores the config again (predicted_ms, predicted_std,
    measured_ms, proxy objectives...); `trial_id` is its latest training trial, if any.
    """

    config_hash: str
    config: JsonDict
    stage_reached: str
    values: JsonDict = field(default_factory=dict)
    trial_id: int | None = None
