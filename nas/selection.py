"""Best codec for a latency budget: the answer engineers who ship codecs come for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nas.domain import TrialRecord, TrialState


@dataclass(frozen=True)
class BudgetChoice:
    """`trial` meets the budget when `fits`; otherwise it is the trial that comes closest."""

    trial: TrialRecord | None
    fits: bool
    budget_metric: str
    budget: float
    quality_metric: str
    message: str


def best_for_budget(
    trials: Sequence[TrialRecord],
    budget: float,
    budget_metric: str = "decode_ms_12mp",
    quality_metric: str = "quality_ratio_vs_jpeg",
    lower_quality_is_better: bool = True,
) -> BudgetChoice:
    """The best-quality complete trial whose `budget_metric` is within `budget`."""
    complete = [
        t
        for t in trials
        if t.state == TrialState.COMPLETE
        and budget_metric in t.metrics
        and quality_metric in t.metrics
    ]
    if not complete:
        return BudgetChoice(
            None,
            False,
            budget_metric,
            budget,
            quality_metric,
            "the campaign has no complete trial yet",
        )
    sign = 1.0 if lower_quality_is_better else -1.0
    fitting = [t for t in complete if t.metrics[budget_metric] <= budget]
    if fitting:
        best = min(
            fitting, key=lambda t: (sign * t.metrics[quality_metric], t.metrics[budget_metric])
        )
        return BudgetChoice(
            best,
            True,
            budget_metric,
            budget,
            quality_metric,
            f"trial {best.number} meets {budget_metric} <= {budget:g} "
            f"with {budget_metric} = {best.metrics[budget_metric]:.1f}",
        )
    closest = min(complete, key=lambda t: t.metrics[budget_metric])
    return BudgetChoice(
        closest,
        False,
        budget_metric,
        budget,
        quality_metric,
        f"no trial meets {budget_metric} <= {budget:g}; the closest is trial {closest.number} "
        f"with {budget_metric} = {closest.metrics[budget_metric]:.1f}",
    )
