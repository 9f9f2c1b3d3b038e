"""The one registry of search spaces: CLI choices and spec validation derive from it."""

from __future__ import annotations

from search_spaces.basic import BASIC_SPACE
from search_spaces.pico import PICO_SPACE
from search_spaces.space import SearchSpace

_SPACES: dict[str, SearchSpace] = {}


def register(space: SearchSpace) -> SearchSpace:
    if space.name in _SPACES:
        raise ValueError(f"a search space named {space.name!r} is already registered")
    _SPACES[space.name] = space
    return space


def get_space(name: str) -> SearchSpace:
    try:
        return _SPACES[name]
    except KeyError:
        raise KeyError(f"unknown search space {name!r}; known spaces: {space_names()}") from None


def space_names() -> list[str]:
    return sorted(_SPACES)


register(BASIC_SPACE)
register(PICO_SPACE)
