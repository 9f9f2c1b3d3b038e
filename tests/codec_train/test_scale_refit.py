"""Refitting the scale decoder alone: fewer real bits, the same decoded pixels."""

from __future__ import annotations

import pytest
import torch

from codec import build_codec
from codec.images import NamedImage, to_pixels, to_tensor
from codec.scale_refit import coded_symbols, refit_scale_decoder
from codec.training import TrainingConfig, train
from tests.codec_core.helpers import PICO_STYLE, photo
from tests.codec_train.models import tiny_codec


def _photos() -> list[NamedImage]:
    crops = [photo(96, 128), photo(128, 96)]
    return [NamedImage(f"p{i}", to_pixels(c)) for i, c in enumerate(crops)]


def test_refit_lowers_the_real_bits_and_keeps_every_pixel() -> None:
    torch.manual_seed(0)
    images = _photos()
    model = build_codec(PICO_STYLE)
    train(model, images, TrainingConfig(steps=60, batch_size=4, crop_size=64,
                                        learning_rate=1e-3, lmbda=0.01))  # fmt: skip
    before = [model.compress(to_tensor(i.pixels)) for i in images]
    decoded_before = [model.decompress(b) for b in before]
    samples = coded_symbols(model, images, [None])
    report = refit_scale_decoder(model, samples, steps=150, learning_rate=3e-3)
    assert report.bpp_after < report.bpp_before
    after = [model.compress(to_tensor(i.pixels)) for i in images]
    assert sum(map(len, after)) < sum(map(len, before))
    for data, pixels in zip(after, decoded_before, strict=True):
        assert torch.equal(model.decompress(data), pixels)  # the transforms never moved


def test_a_model_without_a_scale_decoder_is_refused() -> None:
    model = tiny_codec(hyperprior=False).eval()
    model.prepare_for_coding()
    with pytest.raises(ValueError, match="only a hyperprior model"):
        coded_symbols(model, _photos(), [None])
