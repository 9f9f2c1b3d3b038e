"""Inheritance: a new codec starts from the weights of a trained codec of a nearby config.

`inherit_weights(target, source)` copies what fits (structure.py, tensors.py) and reports
what it did (report.py); `trained_codec` rebuilds a source from its space, config and saved
state_dict; `config_distance` (distance.py) says which trained config is nearest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from search_spaces.inheritance.distance import config_distance, nearest

if TYPE_CHECKING:
    from search_spaces.inheritance.report import InheritanceReport
    from search_spaces.inheritance.structure import inherit_weights, start_as_identity
    from search_spaces.inheritance.trained import trained_codec

# The weight-copying half needs torch; choosing the nearest config (distance.py) does not, and
# the controller and the CLI use only that. The rest loads on first use.
_HOMES = {
    "InheritanceReport": "search_spaces.inheritance.report",
    "inherit_weights": "search_spaces.inheritance.structure",
    "start_as_identity": "search_spaces.inheritance.structure",
    "trained_codec": "search_spaces.inheritance.trained",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'search_spaces.inheritance' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


__all__ = [
    "InheritanceReport",
    "config_distance",
    "inherit_weights",
    "nearest",
    "start_as_identity",
    "trained_codec",
]
