"""Declarative codec search spaces: validated parameters, config hashes, sampling, builders."""

from search_spaces.params import Categorical, IntRange, Param
from search_spaces.registry import get_space, space_names
from search_spaces.space import Config, ConfigError, SearchSpace

__all__ = [
    "Categorical",
    "Config",
    "ConfigError",
    "IntRange",
    "Param",
    "SearchSpace",
    "get_space",
    "space_names",
]
