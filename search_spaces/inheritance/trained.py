"""A trained codec rebuilt from its space, config and saved state_dict."""

from __future__ import annotations

import io
from typing import Any

import torch

from codec.model import LearnedCodec
from search_spaces.registry import get_space


def trained_codec(space: str, config: dict[str, Any], weights: bytes) -> LearnedCodec:
    """A codec of `config` with the weights of a saved state_dict (loaded weights_only)."""
    model = get_space(space).build(config)
    state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model
