"""Declarative codec search spaces: validated parameters, config hashes, sampling, builders."""

from search_spaces.config_batch import ConfigBatch, batch_from_configs, sample_batch
from search_spaces.params import Categorical, IntRange, Param
from search_spaces.registry import get_space, space_names
from search_spaces.space import Config, ConfigError, SearchSpace

__all__ = [
    "Categorical",
    "Config",
    "ConfigBatch",
    "ConfigError",
    "IntRange",
    "Param",
    "SearchSpace",
    "batch_from_configs",
    "get_space",
    "sample_batch",
    "space_names",
]
