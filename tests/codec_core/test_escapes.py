"""Latents far outside every table's support must round-trip through the escape stream."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from codec.bitstream import unpack_bitstream

from .helpers import ROUND_TRIP_ARCHITECTURES, codec_with_spread_latents, photo

# Beyond the factorized search grid (+-2048) and the widest Gaussian table (+-1564).
FAR = [(0, 0, 0, 5000.0), (1, 1, 0, -7000.0), (2, 0, 1, 3.0e5)]


def _force_values(module: nn.Module) -> None:
    def hook(_: nn.Module, __: Any, output: torch.Tensor) -> torch.Tensor:
        output = output.clone()
        for channel, row, col, value in FAR:
            output[0, channel, row, col] = value
        return output

    module.register_forward_hook(hook)


@pytest.mark.parametrize("arch_index", [0, 1])
def test_far_latents_round_trip(arch_index: int) -> None:
    arch = ROUND_TRIP_ARCHITECTURES[arch_index]
    model = codec_with_spread_latents(arch)
    _force_values(model.g_a)
    if model.h_a is not None:
        _force_values(model.h_a)
    x = photo(40, 56)
    data = model.compress(x)
    _, (_, escape_stream) = unpack_bitstream(data, model.model_id)
    forced_latents = 2 if model.h_a is not None else 1
    # Every forced value lies >1000 past its support: a varint of at least 2 bytes each.
    assert len(escape_stream) >= 2 * len(FAR) * forced_latents

    expected = model.encode_latents(x)
    _, decoded = model.decode_latents(data)
    for name, latent in expected.items():
        for channel, row, col, value in FAR:
            assert latent[0, channel, row, col] == value
        assert torch.equal(decoded[name], latent), name
    assert model.decompress(data).shape == x.shape


def test_uncodable_magnitude_is_an_error_not_a_clamp() -> None:
    model = codec_with_spread_latents(ROUND_TRIP_ARCHITECTURES[0])
    FAR.append((0, 1, 1, 3.0e9))
    try:
        _force_values(model.g_a)
        with pytest.raises(ValueError, match="latent y reaches 3e\\+09"):
            model.compress(photo(16, 16))
    finally:
        FAR.pop()
