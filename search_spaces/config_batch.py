"""Many configs of a space held as arrays: sample, select and screen a million configs in seconds.

A `ConfigBatch` keeps one numpy array per parameter: a categorical holds the index of its choice
(so strings, booleans and numbers all become small integers), an integer range holds the value.
`config(i)` turns row i back into an ordinary config whose values are the space's own choice
objects, so `space.validate`, hashing and storage see exactly what `space.sample` would give.

The funnel (PICO: ~1.4M configs, a MACs band, then a latency screen) works on whole batches:
`sample_batch` draws uniformly per parameter, `take` keeps a mask's rows, and
`search_spaces.vectorized.macs_batch` counts MACs for every row at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from search_spaces.params import Categorical, IntRange, JsonScalar, Param
from search_spaces.space import Config, ConfigError, SearchSpace

IndexLike = Sequence[int] | np.ndarray


def _index_dtype(param: Param) -> type[np.integer[Any]]:
    if isinstance(param, Categorical):
        return np.uint8 if len(param.choices) <= 256 else np.int32
    return np.int64


@dataclass(frozen=True)
class ConfigBatch:
    """N configs of `space`: `columns[name]` is a length-N array (choice index or int value)."""

    space: SearchSpace
    columns: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        names = self.space.param_names
        if sorted(self.columns) != sorted(names):
            raise ValueError(
                f"space {self.space.name!r}: batch columns {sorted(self.columns)} "
                f"do not match parameters {sorted(names)}"
            )
        lengths = {name: len(self.columns[name]) for name in names}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"batch columns have different lengths: {lengths}")

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def values(self, name: str) -> np.ndarray:
        """The parameter's values for every row (numbers and booleans as a numeric array;
        strings as an object array: prefer `is_value` to compare them)."""
        param = self.space.param(name)
        column = self.columns[name]
        if isinstance(param, IntRange):
            return column
        choices = param.choices
        if all(isinstance(c, str) for c in choices):
            return np.asarray(choices, dtype=object)[column]
        return np.asarray(choices)[column]

    def is_value(self, name: str, value: JsonScalar) -> np.ndarray:
        """Boolean mask of the rows whose parameter `name` equals `value`."""
        param = self.space.param(name)
        if isinstance(param, IntRange):
            return np.asarray(self.columns[name] == value)
        return np.asarray(self.columns[name] == _choice_index(param, value))

    def config(self, i: int) -> Config:
        """Row i as an ordinary config (the space's own value objects, keys in space order)."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"config index {i} out of range for a batch of {len(self)}")
        config: Config = {}
        for param in self.space.params:
            raw = self.columns[param.name][i]
            if isinstance(param, Categorical):
                config[param.name] = param.choices[int(raw)]
            else:
                config[param.name] = int(raw)
        return config

    def configs(self, indices: IndexLike | None = None) -> list[Config]:
        rows = range(len(self)) if indices is None else np.asarray(indices).tolist()
        return [self.config(int(i)) for i in rows]

    def take(self, selector: IndexLike) -> ConfigBatch:
        """The rows a boolean mask (length N) or an index array selects, as a new batch."""
        chosen = np.asarray(selector)
        if chosen.dtype == bool and chosen.shape != (len(self),):
            raise ValueError(f"mask of shape {chosen.shape} for a batch of {len(self)} configs")
        return ConfigBatch(self.space, {n: c[chosen] for n, c in self.columns.items()})

    def hashes(self, indices: IndexLike | None = None) -> list[str]:
        """Config hashes (as `space.hash`) of the chosen rows (all rows when None)."""
        return [self.space.hash(c) for c in self.configs(indices)]

    def unique(self) -> ConfigBatch:
        """The batch without repeated rows (first occurrence kept, order preserved)."""
        stacked = np.stack([self.columns[n].astype(np.int64) for n in self.space.param_names])
        _, first = np.unique(stacked, axis=1, return_index=True)
        return self.take(np.sort(first))


def _choice_index(param: Categorical, value: Any) -> int:
    problem = param.check(value)
    if problem:
        raise ConfigError(f"parameter {param.name!r}: {problem}")
    for index, choice in enumerate(param.choices):
        if type(choice) is type(value) and choice == value:
            return index
    raise AssertionError("unreachable: check() accepted a value that is not a choice")


def _encode(param: Param, value: Any) -> int:
    if isinstance(param, Categorical):
        return _choice_index(param, value)
    problem = param.check(value)
    if problem:
        raise ConfigError(f"parameter {param.name!r}: {problem}")
    return int(value)


def sample_batch(
    space: SearchSpace,
    n: int,
    rng: np.random.Generator,
    fixed: Mapping[str, Any] | None = None,
) -> ConfigBatch:
    """`n` configs drawn uniformly and independently per parameter; `fixed` params held.

    Draws from the same distribution as `space.sample` (not the same stream). Every combination
    of the registered spaces is valid, so no row is rejected.
    """
    if n < 0:
        raise ValueError(f"cannot sample n={n} configs")
    held = dict(fixed or {})
    unknown = sorted(set(held) - set(space.param_names))
    if unknown:
        raise ConfigError(f"space {space.name!r}: unknown fixed parameter(s) {unknown}")
    columns: dict[str, np.ndarray] = {}
    for param in space.params:
        dtype = _index_dtype(param)
        if param.name in held:
            columns[param.name] = np.full(n, _encode(param, held[param.name]), dtype=dtype)
        elif isinstance(param, Categorical):
            columns[param.name] = rng.integers(len(param.choices), size=n).astype(dtype)
        else:
            steps = (param.high - param.low) // param.step + 1
            grid = rng.integers(steps, size=n).astype(dtype)
            columns[param.name] = param.low + param.step * grid
    return ConfigBatch(space, columns)


def batch_from_configs(space: SearchSpace, configs: Sequence[Config]) -> ConfigBatch:
    """Configs (validated against the space) as a batch, in the given order."""
    validated = [space.validate(c) for c in configs]
    columns = {
        p.name: np.fromiter(
            (_encode(p, c[p.name]) for c in validated), dtype=_index_dtype(p), count=len(validated)
        )
        for p in space.params
    }
    return ConfigBatch(space, columns)
