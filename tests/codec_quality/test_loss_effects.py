"""Tiny real trainings: each loss lowers the error it targets, against the same run without it.

Same seed, steps and data for both runs of a pair; measured in eval mode (rounded latents) on
another photo than the one trained on. benchmarks/text_fidelity.py measures the text loss on a
larger codec and at equal bitrate.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codec import LearnedCodec
from codec.images import NamedImage, load_images, to_tensor
from codec.losses import LossWeights, TileLayout, seam_error, text_region_mse
from codec.text_render import TextRenderer
from codec.training import TrainingConfig, train
from tests.codec_train.models import tiny_codec

pytestmark = pytest.mark.slow

TRAIN = [NamedImage("coffee", load_images("skimage:coffee")[0].pixels)]
HELD_OUT = load_images("skimage:chelsea")[0].pixels


def trained(weights: LossWeights, text_fraction: float = 0.0) -> LearnedCodec:
    model = tiny_codec(hyperprior=True)
    config = TrainingConfig(
        steps=200,
        batch_size=4,
        crop_size=64,
        learning_rate=3e-3,
        lmbda=0.01,
        loss=weights,
        text_fraction=text_fraction,
    )
    train(model, TRAIN, config)
    return model


def held_out_seam_error(model: LearnedCodec) -> float:
    """Seam error of 16 tiled 64 px crops coded as 2x2 tiles of 32 px with a 4 px margin."""
    layout = TileLayout(tile=32, margin=4)
    x = to_tensor(HELD_OUT[:256, :256].copy())
    crops = torch.cat(
        [x[..., i : i + 64, j : j + 64] for i in range(0, 256, 64) for j in range(0, 256, 64)]
    )
    with torch.no_grad():
        decoded = layout.assemble(model(layout.split(crops)).x_hat.clamp(0, 1))
    return float(seam_error(layout.canvas(crops), decoded, layout.core)) * 255


def held_out_text_error(model: LearnedCodec) -> float:
    """Text-region MSE (on 0..255) of 8 held-out crops with rendered text."""
    renderer = TextRenderer(seed=123)
    errors = []
    for i in range(8):
        pixels, mask = renderer.render(HELD_OUT[i * 32 : i * 32 + 64, i * 40 : i * 40 + 64].copy())
        x = to_tensor(pixels)
        with torch.no_grad():
            decoded = model(x).x_hat.clamp(0, 1)
        errors.append(
            float(text_region_mse(x, decoded, torch.from_numpy(mask)[None, None].float()))
        )
    return float(np.mean(errors)) * 255**2


def test_tiling_loss_lowers_the_seam_error() -> None:
    without = held_out_seam_error(trained(LossWeights()))
    with_loss = held_out_seam_error(trained(LossWeights(tiling=20.0)))
    assert with_loss < 0.95 * without


def test_text_loss_lowers_the_text_region_error() -> None:
    without = held_out_text_error(trained(LossWeights(), text_fraction=0.5))
    with_loss = held_out_text_error(trained(LossWeights(text=1.0), text_fraction=0.5))
    assert with_loss < 0.97 * without
