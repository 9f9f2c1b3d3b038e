"""The `pico` space: every config validates, hashes stably, builds, and has MACs."""

import json

import numpy as np
import pytest
import torch

from codec.macs import macs_per_pixel
from search_spaces import ConfigError, get_space, space_names
from search_spaces.macs import config_macs
from search_spaces.params import param_from_json
from search_spaces.pico import PICO_LIKE_CONFIG

PICO_BAND = (32_700, 48_000)  # PICO's decoder MACs/px screen (DESIGN.md)


@pytest.fixture(scope="module")
def space():
    torch.set_num_threads(1)
    return get_space("pico")


def test_pico_is_registered_next_to_basic_and_serialises(space):
    assert {"basic", "pico"} <= set(space_names())
    doc = json.loads(json.dumps(space.to_json()))
    assert [param_from_json(p) for p in doc["params"]] == list(space.params)
    names = set(space.param_names)
    assert {"enc_c1", "enc_r1", "enc_e1", "enc_f1", "dec_c3", "dec_r3", "dec_e3", "dec_f3"} <= names
    assert {"resampling", "entropy_model", "channel_groups", "learned_width", "tile_size"} <= names


def test_hash_does_not_change_between_releases(space):
    # Stored trials and bitstream headers refer to this value: it must never drift.
    expected = "99d0f64ce499339ffa782d24e171f7151cee8050efb0345ac8b135fc5b0c8852"
    assert space.hash(PICO_LIKE_CONFIG) == expected
    assert space.hash(dict(reversed(list(PICO_LIKE_CONFIG.items())))) == expected


def test_every_sampled_config_validates_and_has_macs(space):
    rng = np.random.default_rng(0)
    hashes = set()
    for _ in range(300):
        config = space.sample(rng)
        hashes.add(space.hash(config))
        arch = space.architecture(config)
        macs = config_macs(space, config)
        assert macs == macs_per_pixel(arch) and macs.decoder > 0 and macs.encoder > 0
        assert 2 ** (arch.stages + 2) <= 64, "a 64 px crop must fit every config"
    assert len(hashes) == 300


def test_sampled_configs_build_and_run(space):
    rng = np.random.default_rng(1)
    x = torch.rand(1, 3, 64, 64)
    for _ in range(3):
        config = space.sample(rng)
        model = space.build(config).eval()
        assert model.model_id == bytes.fromhex(space.hash(config)[:32])
        with torch.no_grad():
            assert model(x).x_hat.shape == x.shape


def test_pico_like_config_is_in_picos_band_and_codes(space):
    macs = config_macs("pico", PICO_LIKE_CONFIG)
    assert PICO_BAND[0] < macs.decoder < PICO_BAND[1]
    arch = space.architecture(PICO_LIKE_CONFIG)
    assert (arch.tile_size, arch.tile_margin, arch.tile_core) == (512, 4, 504)
    model = space.build(PICO_LIKE_CONFIG).eval()
    model.prepare_for_coding()
    x = torch.rand(1, 3, 40, 72)
    assert model.decompress(model.compress(x)).shape == x.shape


def test_the_space_spans_small_cpu_models_to_large_ones(space):
    rng = np.random.default_rng(2)
    decoders = [config_macs(space, space.sample(rng)).decoder for _ in range(500)]
    assert min(decoders) < 5_000 < PICO_BAND[0] < np.median(decoders) * 2
    assert max(decoders) > 100_000
    assert np.mean([PICO_BAND[0] < d < PICO_BAND[1] for d in decoders]) > 0.05


def test_knobs_that_do_not_apply_are_ignored(space):
    base = dict(PICO_LIKE_CONFIG, stages=3, entropy_model="scale_hyperprior")
    arch = space.architecture(dict(base, channel_groups=4, learned_width=True, enc_c3=32))
    assert arch == space.architecture(dict(base, channel_groups=1, learned_width=False))
    assert arch.channel_groups == 1 and not arch.learned_width and len(arch.analysis_stages) == 2
    factorized = space.architecture(dict(base, entropy_model="factorized"))
    assert not factorized.hyperprior


def test_variable_rate_knob(space):
    arch = space.architecture(dict(PICO_LIKE_CONFIG, variable_rate=True))
    assert arch.rate_points == 6


@pytest.mark.parametrize(
    "change, message",
    [
        ({"enc_c1": 17}, "parameter 'enc_c1': 17 is not one of"),
        ({"dec_r2": 5}, r"parameter 'dec_r2': 5 is not in 0..4"),
        ({"entropy_model": "autoregressive"}, "'autoregressive' is not one of"),
    ],
)
def test_validation_names_the_bad_key_and_value(space, change, message):
    with pytest.raises(ConfigError, match=message):
        space.validate(dict(PICO_LIKE_CONFIG, **change))
