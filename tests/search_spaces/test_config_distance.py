"""The distance that picks a trial's nearest trained config (search_spaces.inheritance.distance)."""

from __future__ import annotations

import numpy as np
import pytest

from search_spaces.inheritance import config_distance, nearest
from search_spaces.pico import PICO_LIKE_CONFIG, PICO_SPACE


def test_a_config_is_at_distance_zero_from_itself():
    assert config_distance(PICO_SPACE, PICO_LIKE_CONFIG, dict(PICO_LIKE_CONFIG)) == 0.0


def test_numeric_choices_count_by_rank_others_by_equality():
    config = dict(PICO_LIKE_CONFIG)
    # latent_channels (64, 96, 128, 160, 192, 256, 320): 192 -> 256 is one rank of six.
    assert config_distance(PICO_SPACE, config, {**config, "latent_channels": 256}) == 1 / 6
    assert config_distance(PICO_SPACE, config, {**config, "latent_channels": 64}) == 4 / 6
    # enc_r1 is a range 0..4: 2 -> 4 is half of it.
    assert config_distance(PICO_SPACE, config, {**config, "enc_r1": 4}) == 0.5
    assert config_distance(PICO_SPACE, config, {**config, "resampling": "conv"}) == 1.0
    assert config_distance(PICO_SPACE, config, {**config, "learned_width": False}) == 1.0


def test_distances_add_up_and_are_symmetric():
    rng = np.random.default_rng(3)
    a, b = PICO_SPACE.sample(rng), PICO_SPACE.sample(rng)
    assert config_distance(PICO_SPACE, a, b) == pytest.approx(config_distance(PICO_SPACE, b, a))
    assert 0 < config_distance(PICO_SPACE, a, b) <= len(PICO_SPACE.params)


def test_nearest_orders_candidates_and_breaks_ties_towards_the_latest():
    base = dict(PICO_LIKE_CONFIG)
    candidates = [
        ("far", {**base, "resampling": "conv", "block": "conv"}),
        ("tie-old", {**base, "enc_r1": 3}),
        ("tie-new", {**base, "enc_r1": 1}),
        ("same", dict(base)),
    ]
    ranked = [key for _, key in nearest(PICO_SPACE, base, candidates)]
    assert ranked == ["same", "tie-new", "tie-old", "far"]
