import json

import numpy as np
import pytest

from search_spaces import Categorical, ConfigError, IntRange, get_space, space_names
from search_spaces.params import param_from_json
from search_spaces.registry import register


def test_basic_space_is_registered_and_serialises():
    space = get_space("basic")
    doc = json.loads(json.dumps(space.to_json()))
    assert [param_from_json(p) for p in doc["params"]] == list(space.params)
    names = set(space.param_names)
    assert {"channels", "stages", "block", "activation", "latent_channels", "hyperprior"} <= names


def test_unknown_space_names_the_known_ones():
    with pytest.raises(KeyError, match="unknown search space 'nope'.*basic"):
        get_space("nope")


def test_duplicate_registration_is_rejected():
    with pytest.raises(ValueError, match="already registered"):
        register(get_space("basic"))
    assert space_names().count("basic") == 1


def test_hash_is_stable_and_order_independent():
    space = get_space("basic")
    config = space.sample(np.random.default_rng(0))
    reordered = dict(reversed(list(config.items())))
    assert space.hash(config) == space.hash(reordered)
    assert len(space.hash(config)) == 64
    other = dict(config, channels=16 if config["channels"] != 16 else 24)
    assert space.hash(other) != space.hash(config)


def test_hash_does_not_change_between_releases():
    # Stored trials and bitstream headers refer to this value: it must never drift.
    config = {
        "channels": 32,
        "stages": 3,
        "block": "residual",
        "activation": "relu",
        "latent_channels": 48,
        "hyperprior": True,
    }
    expected = "74199501ee12e4bbdc7c661054d5decfd214b34b8f5ca541efefd0fb30fcc35c"
    assert get_space("basic").hash(config) == expected


@pytest.mark.parametrize(
    "change, message",
    [
        ({"channels": 33}, "parameter 'channels': 33 is not one of"),
        ({"hyperprior": 1}, "parameter 'hyperprior': 1 is not one of"),
        ({"block": "transformer"}, "'transformer' is not one of"),
        ({"extra": 1}, r"unknown parameter\(s\) \['extra'\]"),
    ],
)
def test_validation_names_the_bad_key_and_value(change, message):
    space = get_space("basic")
    config = dict(space.sample(np.random.default_rng(1)), **change)
    with pytest.raises(ConfigError, match=message):
        space.validate(config)


def test_missing_parameter_is_named():
    space = get_space("basic")
    config = space.sample(np.random.default_rng(2))
    del config["stages"]
    with pytest.raises(ConfigError, match=r"missing parameter\(s\) \['stages'\]"):
        space.validate(config)


def test_params_check_their_domains():
    r = IntRange("depth", 2, 8, step=2)
    assert r.check(4) is None and r.check(5) and r.check(True) and r.check(10)
    rng = np.random.default_rng(0)
    assert all(r.check(r.sample(rng)) is None for _ in range(50))
    with pytest.raises(ValueError, match="duplicate choices"):
        Categorical("x", (1, 1))


def test_every_sampled_config_builds_a_codec():
    space = get_space("basic")
    rng = np.random.default_rng(3)
    for _ in range(4):
        config = space.sample(rng)
        model = space.build(config)
        assert model.model_id == bytes.fromhex(space.hash(config)[:32])
