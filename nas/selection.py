"""Best codec for a latency budget: the answer engineers who ship codecs come for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nas.domain import TrialRecord, TrialState
from nas.metrics import KNOWN_METRICS
from nas.storage.repository import CampaignStore


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
    # Infeasible trials broke one of the campaign's constraints: never recommended.
    complete = [
        t
        for t in trials
        if t.state == TrialState.COMPLETE
        and t.feasible is not False
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


def best_in_campaign(
    store: CampaignStore,
    campaign_id: int,
    budget: float,
    budget_metric: str = "decode_ms_12mp",
    quality_metric: str = "quality_ratio_vs_jpeg",
) -> BudgetChoice:
    """best_for_budget over a stored campaign, answered from its stored front when possible.

    When both metrics are objectives, the best trial under any budget (and the closest one when
    none fits) is on the Pareto front, so the answer costs O(front), not O(trials): it stays fast
    with a million trials stored. Otherwise every complete trial is considered.
    """
    campaign = store.campaign(campaign_id)
    objectives = {o["metric"]: o for o in campaign.spec.get("objectives", [])}
    lower_is_better = KNOWN_METRICS[quality_metric].direction == "minimize"
    if quality_metric in objectives:
        lower_is_better = (
            objectives[quality_metric].get("direction") or KNOWN_METRICS[quality_metric].direction
        ) == "minimize"
    on_front = budget_metric in objectives and quality_metric in objectives
    trials = store.front(campaign_id) if on_front else store.trials(campaign_id)
    return best_for_budget(trials, budget, budget_metric, quality_metric, lower_is_better)
