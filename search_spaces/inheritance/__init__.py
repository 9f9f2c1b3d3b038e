"""Inheritance: a new codec starts from the weights of a trained codec of a nearby config.

`inherit_weights(target, source)` copies what fits (structure.py, tensors.py) and reports
what it did (report.py); `trained_codec` rebuilds a source from its space, config and saved
state_dict; `config_distance` (distance.py) says which trained config is nearest.
"""

from __future__ import annotations

import io
from typing import Any

import torch

from codec.model import LearnedCodec
from search_spaces.inheritance.distance import config_distance, nearest
from search_spaces.inheritance.report import InheritanceReport
from search_spaces.inheritance.structure import inherit_weights, start_as_identity
from search_spaces.registry import get_space


def trained_codec(space: str, config: dict[str, Any], weights: bytes) -> LearnedCodec:
    """A codec of `config` with the weights of a saved state_dict (loaded weights_only)."""
    model = get_space(space).build(config)
    state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model


__all__ = [
    "InheritanceReport",
    "config_distance",
    "inherit_weights",
    "nearest",
    "start_as_identity",
    "trained_codec",
]
