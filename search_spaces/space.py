"""A search space: named parameters plus the function that turns a config into a codec."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from codec.architecture import CodecArchitecture
from search_spaces.hashing import config_hash, model_id
from search_spaces.params import Param

if TYPE_CHECKING:
    from codec.model import LearnedCodec

Config = dict[str, Any]


class ConfigError(ValueError):
    """A config does not belong to its space; the message names the key and the value."""


@dataclass(frozen=True)
class SearchSpace:
    name: str
    description: str
    params: tuple[Param, ...]
    to_architecture: Callable[[Config], CodecArchitecture]

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"space {self.name!r}: duplicate parameter names in {names}")

    @property
    def param_names(self) -> list[str]:
        return [p.name for p in self.params]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"space {self.name!r} has no parameter {name!r}")

    def validate(self, config: Config) -> Config:
        """Return the config with keys in space order, or raise ConfigError naming the problem."""
        if not isinstance(config, dict):
            raise ConfigError(f"space {self.name!r}: a config must be a mapping, got {config!r}")
        unknown = sorted(set(config) - set(self.param_names))
        if unknown:
            raise ConfigError(f"space {self.name!r}: unknown parameter(s) {unknown}")
        missing = [n for n in self.param_names if n not in config]
        if missing:
            raise ConfigError(f"space {self.name!r}: missing parameter(s) {missing}")
        for p in self.params:
            problem = p.check(config[p.name])
            if problem:
                raise ConfigError(f"space {self.name!r}: parameter {p.name!r}: {problem}")
        try:
            self.to_architecture(config).validate()
        except ValueError as exc:
            raise ConfigError(f"space {self.name!r}: config {config}: {exc}") from exc
        return {n: config[n] for n in self.param_names}

    def sample(self, rng: np.random.Generator) -> Config:
        return {p.name: p.sample(rng) for p in self.params}

    def hash(self, config: Config) -> str:
        return config_hash(self.name, self.validate(config))

    def architecture(self, config: Config) -> CodecArchitecture:
        return self.to_architecture(self.validate(config))

    def build(self, config: Config) -> LearnedCodec:
        """A freshly initialised codec whose bitstreams carry this config's identity."""
        # Imported here: torch loads in seconds, and specs, samplers and the CLI never build.
        from codec.model import build_codec

        return build_codec(self.architecture(config), model_id=model_id(self.hash(config)))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params": [p.to_json() for p in self.params],
        }
