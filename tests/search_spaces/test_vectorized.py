"""Config batches: valid rows, selection keeps rows, vectorised MACs equal the scalar count."""

import dataclasses
import time

import numpy as np
import pytest

from search_spaces import ConfigError, get_space
from search_spaces.macs import config_macs
from search_spaces.pico import PICO_LIKE_CONFIG
from search_spaces.vectorized import _per_config_arrays as per_config_arrays
from search_spaces.vectorized import (
    architecture_arrays,
    batch_from_configs,
    macs_batch,
    sample_batch,
)


@pytest.mark.parametrize("name", ["pico", "basic"])
def test_rows_are_valid_configs_and_macs_equal_the_scalar_count(name: str) -> None:
    space = get_space(name)
    batch = sample_batch(space, 300, np.random.default_rng(7))
    encoder, decoder = macs_batch(space, batch)
    for i, config in enumerate(batch.configs()):
        assert space.validate(config) == config
        macs = config_macs(space, config)
        np.testing.assert_allclose(encoder[i], macs.encoder / 1000, rtol=1e-9)
        np.testing.assert_allclose(decoder[i], macs.decoder / 1000, rtol=1e-9)


@pytest.mark.parametrize("name", ["pico", "basic"])
def test_vectorised_architecture_equals_building_each_config(name: str) -> None:
    space = get_space(name)
    batch = sample_batch(space, 200, np.random.default_rng(3))
    fast, slow = architecture_arrays(batch), per_config_arrays(batch)
    for field in dataclasses.fields(fast):
        np.testing.assert_array_equal(
            getattr(fast, field.name), getattr(slow, field.name), err_msg=field.name
        )


def test_fixed_parameters_are_held_and_bad_ones_named() -> None:
    space = get_space("pico")
    batch = sample_batch(space, 500, np.random.default_rng(1), fixed={"stages": 3, "block": "conv"})
    configs = batch.configs()
    assert {c["stages"] for c in configs} == {3} and {c["block"] for c in configs} == {"conv"}
    activations = len(space.param("activation").choices)  # type: ignore[union-attr]
    assert len({c["activation"] for c in configs}) == activations, "free parameters still vary"
    with pytest.raises(ConfigError, match="'stages'.*5"):
        sample_batch(space, 3, np.random.default_rng(1), fixed={"stages": 5})
    with pytest.raises(ConfigError, match="colour"):
        sample_batch(space, 3, np.random.default_rng(1), fixed={"colour": 1})


def test_take_hashes_and_round_trip_through_configs() -> None:
    space = get_space("pico")
    batch = sample_batch(space, 1000, np.random.default_rng(2))
    _, decoder = macs_batch(space, batch)
    band = (decoder > 20) & (decoder < 60)
    kept = batch.take(band)
    assert len(kept) == int(band.sum()) > 0
    np.testing.assert_array_equal(macs_batch(space, kept)[1], decoder[band])
    picked = batch.take([5, 0, 5])
    assert picked.configs() == [batch.config(5), batch.config(0), batch.config(5)]
    assert batch.hashes([5, 0]) == [space.hash(batch.config(5)), space.hash(batch.config(0))]
    assert len(picked.unique()) == 2
    again = batch_from_configs(space, [PICO_LIKE_CONFIG, batch.config(9)])
    assert again.config(0) == PICO_LIKE_CONFIG and again.config(1) == batch.config(9)
    assert batch.is_value("block", "conv").sum() == sum(
        c["block"] == "conv" for c in batch.configs()
    )
    with pytest.raises(IndexError, match="1000"):
        batch.config(1000)


def test_a_million_pico_configs_sample_and_count_in_seconds() -> None:
    space = get_space("pico")
    start = time.process_time()  # CPU time: the machine is shared, wall time is not ours
    batch = sample_batch(space, 1_000_000, np.random.default_rng(0))
    encoder, decoder = macs_batch(space, batch)
    seconds = time.process_time() - start
    assert len(batch) == len(decoder) == 1_000_000 and np.all(encoder > 0)
    assert seconds < 20, f"1M configs took {seconds:.1f} s of CPU"
