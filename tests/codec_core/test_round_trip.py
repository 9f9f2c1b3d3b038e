from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from codec import CodecArchitecture, CodingNotPreparedError, build_codec

from .helpers import ROUND_TRIP_ARCHITECTURES, codec_with_spread_latents, photo


@pytest.mark.parametrize("arch", ROUND_TRIP_ARCHITECTURES, ids=lambda a: f"{a.block}-{a.stages}")
@pytest.mark.parametrize(("height", "width"), [(37, 53), (64, 96)])
def test_round_trip(arch: CodecArchitecture, height: int, width: int) -> None:
    model = codec_with_spread_latents(arch)
    x = photo(height, width)
    data = model.compress(x)
    x_hat = model.decompress(data)
    assert x_hat.shape == x.shape
    assert 0.0 <= float(x_hat.min()) and float(x_hat.max()) <= 1.0
    assert model.compress(x) == data, "compress is not deterministic"
    assert torch.equal(model.decompress(data), x_hat), "decompress is not deterministic"

    # The decoded symbols are exactly round(g_a(replicate-padded x)) (and round(h_a(|y|))).
    m = model.size_multiple
    padded = F.pad(x, (0, -width % m, 0, -height % m), mode="replicate")
    with torch.no_grad():
        y = model.g_a(padded)
        expected = {"y": torch.round(y)}
        if model.h_a is not None:
            expected["z"] = torch.round(model.h_a(torch.abs(y)))
    _, decoded = model.decode_latents(data)
    assert decoded.keys() == expected.keys()
    for name, latent in expected.items():
        assert torch.equal(decoded[name], latent), name
    assert len(torch.unique(expected["y"])) > 5, "latents too flat to exercise the coder"


def test_tiny_image_round_trips() -> None:
    model = codec_with_spread_latents(ROUND_TRIP_ARCHITECTURES[1])
    x = photo(1, 2)
    assert model.decompress(model.compress(x)).shape == (1, 3, 1, 2)


def test_reloaded_model_decodes_identically() -> None:
    arch = ROUND_TRIP_ARCHITECTURES[3]
    model = codec_with_spread_latents(arch, seed=3)
    x = photo(40, 24)
    data = model.compress(x)
    twin = build_codec(arch, model_id=model.model_id)
    twin.load_state_dict(model.state_dict())
    with pytest.raises(CodingNotPreparedError, match="prepare_for_coding"):
        twin.decompress(data)
    twin.prepare_for_coding()
    assert torch.equal(twin.decompress(data), model.decompress(data))
    # Loading the same weights keeps the tables valid; loading others makes them stale.
    model.load_state_dict(twin.state_dict())
    assert model.compress(x) == data
    other = build_codec(arch)
    model.load_state_dict(other.state_dict())
    with pytest.raises(CodingNotPreparedError, match="changed since prepare_for_coding"):
        model.compress(x)


def test_training_step_makes_tables_stale() -> None:
    model = codec_with_spread_latents(ROUND_TRIP_ARCHITECTURES[0])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = photo(16, 16)
    model.compress(x)
    model.rate_bits(model.train()(x)).backward()
    optimizer.step()
    with pytest.raises(CodingNotPreparedError, match="changed"):
        model.eval().compress(x)
    model.prepare_for_coding()
    assert model.decompress(model.compress(x)).shape == x.shape


def test_compress_rejects_bad_input() -> None:
    model = codec_with_spread_latents(ROUND_TRIP_ARCHITECTURES[0])
    with pytest.raises(ValueError, match=r"\(1,3,H,W\)"):
        model.compress(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="shape"):
        model.compress(torch.rand(1, 4, 8, 8))
    with pytest.raises(ValueError, match="non-finite"):
        model.compress(torch.full((1, 3, 8, 8), float("nan")))


def test_rate_bits_is_differentiable() -> None:
    model = build_codec(ROUND_TRIP_ARCHITECTURES[1]).train()
    out = model(photo(32, 32))
    bits = model.rate_bits(out)
    assert bits.ndim == 0 and float(bits.detach()) > 0
    bits.backward()
    first = model.g_a[0]
    assert isinstance(first, torch.nn.Conv2d) and first.weight.grad is not None
    assert float(first.weight.grad.abs().sum()) > 0
