"""How far apart two configs of one space are: the sum, over the space's parameters, of

- an integer range: |a - b| / (high - low);
- a categorical whose choices are all numbers (channels, kernel sizes, ...): the difference of
  the two values' ranks among the sorted choices, divided by (number of choices - 1);
- any other categorical (strings, booleans): 0 when equal, 1 when not.

Each parameter contributes at most 1. Knobs that change no weight (tile size) count as well:
the rule is simple rather than clever. Configs of different spaces have no distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from search_spaces.params import Categorical, IntRange, JsonScalar, Param
from search_spaces.space import Config, SearchSpace

Key = TypeVar("Key")


def _numeric(choices: tuple[JsonScalar, ...]) -> bool:
    return all(isinstance(c, int | float) and not isinstance(c, bool) for c in choices)


def param_distance(param: Param, a: Any, b: Any) -> float:
    if a == b and type(a) is type(b):
        return 0.0
    if isinstance(param, IntRange):
        span = param.high - param.low
        return abs(a - b) / span if span else 0.0
    assert isinstance(param, Categorical)
    if _numeric(param.choices) and len(param.choices) > 1:
        ranks = {value: rank for rank, value in enumerate(sorted(param.choices))}
        if a in ranks and b in ranks:
            return abs(ranks[a] - ranks[b]) / (len(param.choices) - 1)
    return 1.0


def config_distance(space: SearchSpace, a: Config, b: Config) -> float:
    """Distance between two configs of `space` (missing keys count as different)."""
    total = 0.0
    for param in space.params:
        if param.name not in a or param.name not in b:
            total += 1.0
        else:
            total += param_distance(param, a[param.name], b[param.name])
    return total


def nearest(
    space: SearchSpace, config: Config, candidates: Sequence[tuple[Key, Config]]
) -> list[tuple[float, Key]]:
    """Candidates as (distance, key), nearest first; ties keep the candidates' order reversed
    (with candidates in trial order, the latest trial wins a tie: it trained last)."""
    scored = [(config_distance(space, config, c), i, key) for i, (key, c) in enumerate(candidates)]
    scored.sort(key=lambda item: (item[0], -item[1]))
    return [(distance, key) for distance, _, key in scored]
