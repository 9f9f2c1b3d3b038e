"""The sampler's cost stays bounded as a campaign grows: it models a window of recent trials,
while every config ever stored stays "seen" (never proposed again)."""

from __future__ import annotations

import numpy as np

from nas.domain import TrialRecord, TrialState
from nas.samplers import AskTellSampler
from nas.spec import parse_spec
from search_spaces import get_space
from tests.conftest import tiny_spec


def _stored(space_name: str, n: int) -> list[TrialRecord]:
    space = get_space(space_name)
    rng = np.random.default_rng(0)
    trials, seen = [], set()
    while len(trials) < n:
        config = space.sample(rng)
        key = space.hash(config)
        if key in seen:
            continue
        seen.add(key)
        objectives = {"quality_ratio_vs_jpeg": float(rng.uniform(0.5, 3)), "decode_ms_12mp": 99.0}
        trials.append(
            TrialRecord(
                id=len(trials) + 1, campaign_id=1, number=len(trials), state=TrialState.COMPLETE,
                config=config, config_hash=key, attempts=1, error=None, metrics=objectives,
                objectives=objectives, feasible=True,
            )
        )  # fmt: skip
    return trials


def test_the_study_is_bounded_and_stored_configs_are_never_proposed() -> None:
    spec = parse_spec(tiny_spec(sampler={"kind": "tpe", "seed": 0, "startup_trials": 2}))
    space = get_space(spec.space)
    stored = _stored(spec.space, 60)
    sampler = AskTellSampler(spec, space, history_window=10)
    sampler.replay(stored)
    assert len(sampler._study.trials) == 10
    hashes = {t.config_hash for t in stored}
    for _ in range(30):
        config = sampler.ask()
        assert config is not None and space.hash(config) not in hashes
        hashes.add(space.hash(config))
        metrics = {"quality_ratio_vs_jpeg": 1.0, "decode_ms_12mp": 50.0}
        sampler.tell(config, TrialState.COMPLETE, metrics, metrics)
        assert len(sampler._study.trials) <= 2 * 10 + 1
