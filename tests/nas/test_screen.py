"""The MACs screen: configs outside the spec's band never become trials."""

from __future__ import annotations

import pytest

from nas.controller import Controller
from nas.errors import SpecError
from nas.executor import InProcessExecutor
from nas.spec import parse_spec
from search_spaces.macs import config_macs
from tests.conftest import tiny_spec
from tests.nas.test_controller import _synthetic_outcome


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_only_configs_inside_the_macs_band_are_trained(store, sampler):
    spec = parse_spec(
        tiny_spec(
            space="pico",
            sampler={"kind": sampler, "seed": 3, "startup_trials": 2},
            budget={"trials": 5, "parallel": 1},
            screen={"decoder_kmacs_min": 2.0, "decoder_kmacs_max": 6.0},
        )
    )
    campaign = store.create_campaign(spec.name, spec.to_json())
    Controller(store, campaign.id, InProcessExecutor(_synthetic_outcome)).run()
    trials = store.trials(campaign.id)
    assert len(trials) == 5
    for t in trials:
        decoder_kmacs = config_macs("pico", t.config).decoder / 1e3
        assert 2.0 <= decoder_kmacs <= 6.0, (decoder_kmacs, t.config)


def test_an_inverted_band_is_rejected():
    with pytest.raises(SpecError, match="decoder_kmacs_min 9.0 is above decoder_kmacs_max 3.0"):
        parse_spec(tiny_spec(screen={"decoder_kmacs_min": 9, "decoder_kmacs_max": 3}))


def test_fixed_parameters_hold_their_value_in_every_trial(store):
    fixed = {"variable_rate": False, "entropy_model": "scale_hyperprior", "stages": 3}
    spec = parse_spec(
        tiny_spec(
            space="pico",
            fixed=fixed,
            budget={"trials": 4, "parallel": 1},
            sampler={"kind": "tpe", "seed": 1, "startup_trials": 2},
            screen={"decoder_kmacs_max": 6.0},
        )
    )
    campaign = store.create_campaign(spec.name, spec.to_json())
    Controller(store, campaign.id, InProcessExecutor(_synthetic_outcome)).run()
    trials = store.trials(campaign.id)
    assert len(trials) == 4
    assert all({k: t.config[k] for k in fixed} == fixed for t in trials)


@pytest.mark.parametrize(
    "fixed, message",
    [
        ({"warp_drive": 1}, "fixed: 'warp_drive' is not a parameter of space 'pico'"),
        ({"stages": 9}, "fixed: stages: 9 is not one of"),
    ],
)
def test_bad_fixed_parameters_are_named(fixed, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(tiny_spec(space="pico", fixed=fixed))
