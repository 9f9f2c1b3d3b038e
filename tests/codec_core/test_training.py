"""A few hundred Adam steps must make a tiny codec useful, and its rate estimate honest."""

from __future__ import annotations

import pytest
import torch

from codec import CodecArchitecture, LearnedCodec, build_codec

from .helpers import photo

LAMBDA = 0.01
CROP = 64
STEPS = 300
PSNR_FLOOR_DB = 17.0  # untrained: ~5 dB; 300 steps reach ~20 dB


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(-10 * torch.log10(torch.mean((a - b) ** 2)))


def _train(model: LearnedCodec, image: torch.Tensor) -> None:
    generator = torch.Generator().manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(STEPS):
        i, j = torch.randint(0, image.shape[2] - CROP + 1, (2,), generator=generator).tolist()
        crop = image[:, :, i : i + CROP, j : j + CROP]
        out = model(crop)
        mse = torch.mean((out.x_hat - crop) ** 2)
        bpp = model.rate_bits(out) / (CROP * CROP)
        loss = LAMBDA * 255**2 * mse + bpp
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    model.prepare_for_coding()


@pytest.fixture(scope="module")
def trained() -> tuple[LearnedCodec, LearnedCodec, torch.Tensor]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    image = torch.nn.functional.interpolate(photo(256, 256), size=(128, 128), mode="area")
    arch = CodecArchitecture(12, 16, 2, "residual", "relu", hyperprior=True)
    untrained = build_codec(arch).eval()
    untrained.prepare_for_coding()
    model = build_codec(arch)
    model.load_state_dict(untrained.state_dict())
    _train(model, image)
    return untrained, model, image


def test_training_beats_the_psnr_floor(trained: tuple) -> None:
    untrained, model, image = trained
    assert _psnr(untrained.decompress(untrained.compress(image)), image) < PSNR_FLOOR_DB
    assert _psnr(model.decompress(model.compress(image)), image) > PSNR_FLOOR_DB


def test_real_bits_match_the_eval_rate_estimate(trained: tuple) -> None:
    _, model, image = trained
    real_bits = 8 * len(model.compress(image))
    with torch.no_grad():
        estimate = float(model.rate_bits(model(image)))
    assert abs(real_bits / estimate - 1) < 0.10, (real_bits, estimate)
