"""The funnel end to end on the basic space with a tiny budget: real ORT, real training.

Stage counts must chain (each stage's n_in is the previous stage's n_out), the stored candidates
must match the counts, trials must sit on their rungs with their parents, and a rerun must skip
every stored stage.
"""

from __future__ import annotations

import itertools

import pytest

from nas.domain import CampaignStatus, TrialState
from nas.executor import InProcessExecutor
from nas.funnel.domain import STAGES
from nas.funnel.runner import FunnelRunner
from nas.pareto import compute_front
from nas.spec import parse_spec
from search_spaces import get_space
from tests.funnel.helpers import MacsLatencyModel, OrtMeasurer, funnel_spec
from workers.trial_pipeline import run_trial


@pytest.fixture(scope="module")
def measurer() -> OrtMeasurer:
    return OrtMeasurer(get_space("basic"))


class Interrupting:
    """Passes calls to a measurer and raises KeyboardInterrupt on call number `on_call`."""

    def __init__(self, measurer: OrtMeasurer, on_call: int) -> None:
        self.measurer, self.on_call, self.calls = measurer, on_call, 0

    def measure(self, configs):
        self.calls += 1
        if self.calls == self.on_call:
            raise KeyboardInterrupt
        return self.measurer.measure(configs)


def _runner(store, campaign_id, measurer, executor=None):
    return FunnelRunner(
        store,
        campaign_id,
        latency_model=MacsLatencyModel(get_space("basic")),
        measurer=measurer,
        executor=executor or InProcessExecutor(run_trial),
    )


def test_a_tiny_funnel_runs_end_to_end_and_its_counts_chain(store, measurer):
    space = get_space("basic")
    # A target this machine can meet: the measured time of a mid-sized config.
    probe = {"channels": 32, "stages": 3, "block": "conv", "activation": "relu"}
    probe |= {"latent_channels": 48, "hyperprior": True}
    target = measurer.measure([probe])[space.hash(probe)]
    spec = parse_spec(funnel_spec(target))
    campaign = store.create_campaign(spec.name, spec.to_json())

    # Interrupted in the measure stage (Ctrl-C during its first round): screen and predict are
    # stored, measure is not, and the campaign can be resumed.
    with pytest.raises(KeyboardInterrupt):
        _runner(store, campaign.id, Interrupting(measurer, on_call=2)).run()
    assert store.campaign(campaign.id).status == CampaignStatus.INTERRUPTED
    before = store.funnel_stages(campaign.id)
    assert [s.stage for s in before] == ["screen", "predict"]
    calls = len(measurer.calls)

    assert _runner(store, campaign.id, measurer).run() == CampaignStatus.FINISHED
    # The resumed run did not measure the bootstrap again: its first call is a measure round.
    assert 1 <= len(measurer.calls[calls]) <= 2
    stages = store.funnel_stages(campaign.id)
    assert stages[:2] == before
    assert [s.stage for s in stages] == list(STAGES)
    assert stages[0].n_in == 2000
    print([(s.stage, s.n_in, s.n_out, round(s.seconds, 1)) for s in stages])
    assert stages[-1].n_out >= 1, "the tiny funnel must reach full training to test it"
    for before, after in itertools.pairwise(stages):
        assert after.n_in == before.n_out, (before, after)
    candidates = store.funnel_candidates(campaign.id)
    for position, stage in enumerate(STAGES[1:], start=1):
        reached = [c for c in candidates if STAGES.index(c.stage_reached) >= position]
        assert len(reached) == stages[position].n_out, stage
    predicted = {c.config_hash for c in candidates}
    assert len(predicted) == stages[1].n_out  # nothing stored besides the predict survivors
    low, high = spec.funnel.band_ms
    for c in candidates:
        assert low <= c.values["predicted_ms"] <= high or "measured_ms" in c.values
        if STAGES.index(c.stage_reached) >= STAGES.index("measure"):
            assert low <= c.values["measured_ms"] <= high
    # Active learning: bootstrap, then rounds of `batch` configs, never more than `configs`.
    assert len(measurer.calls[1]) == 3
    assert stages[2].details["measured"] <= 4
    assert all(r["measured"] <= 2 for r in stages[2].details["rounds"])

    trials = store.trials(campaign.id)
    proxy = [t for t in trials if t.rung == 0]
    full = [t for t in trials if t.rung == 1]
    assert len(proxy) == min(2, stages[2].n_out)
    assert len(full) == stages[3].n_out
    assert all(t.parent_trial_id in {p.id for p in proxy} for t in full)
    assert {t.config_hash for t in full} <= {t.config_hash for t in proxy}
    # A trial's decoder latency is the agents' measurement of its config, not its worker's.
    measured = {c.config_hash: c.values.get("measured_ms") for c in candidates}
    for t in proxy + full:
        if t.state == TrialState.COMPLETE:
            assert t.metrics["decode_ms_12mp"] == measured[t.config_hash]
            assert t.metrics["decode_ms_12mp_worker"] > 0
    complete_full = [t for t in full if t.state == TrialState.COMPLETE]
    assert len(complete_full) == stages[4].n_out
    front = store.front(campaign.id)
    assert {t.id for t in front} == set(compute_front(full, spec.objectives).trial_ids)
    assert all(t.rung == 1 for t in front)

    # A rerun skips every stored stage: nothing measured, nothing trained, rows unchanged.
    calls = len(measurer.calls)
    assert _runner(store, campaign.id, measurer).run() == CampaignStatus.FINISHED
    assert len(measurer.calls) == calls
    assert len(store.trials(campaign.id)) == len(trials)
    assert store.funnel_stages(campaign.id) == stages
