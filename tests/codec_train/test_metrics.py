"""PSNR and MS-SSIM on pairs whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pytorch_msssim import ms_ssim as library_ms_ssim

from codec.metrics import (
    ms_ssim,
    ms_ssim_db,
    ms_ssim_over_scales,
    ms_ssim_scales,
    ms_ssim_tensor,
    psnr,
    psnr_from_mse,
)


def noisy_pair(
    size: tuple[int, int], amplitude: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(40, 216, (*size, 3)).astype(np.uint8)
    signs = rng.choice([-1, 1], a.shape)
    return a, (a.astype(int) + amplitude * signs).astype(np.uint8)


def test_identical_images() -> None:
    a, _ = noisy_pair((64, 80), 0)
    assert psnr(a, a) == math.inf
    assert ms_ssim(a, a) == pytest.approx(1.0, abs=1e-9)


def test_psnr_of_known_noise_level() -> None:
    a, b = noisy_pair((32, 32), 5)  # every pixel off by exactly 5: MSE 25
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 25), abs=1e-9)
    black, white = np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 255, np.uint8)
    assert psnr(black, white) == pytest.approx(0.0)  # no uint8 wrap-around


def test_psnr_from_mse_matches_the_peak() -> None:
    assert psnr_from_mse(1e-4) == pytest.approx(40.0)
    assert psnr_from_mse(25.0, peak=255.0) == pytest.approx(34.1514, abs=1e-4)
    with pytest.raises(ValueError, match="-1"):
        psnr_from_mse(-1.0)


def test_metrics_reject_mismatched_inputs() -> None:
    a = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match=r"\(8, 8, 3\) vs \(8, 9, 3\)"):
        psnr(a, np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(TypeError, match="float32"):
        ms_ssim(a, a.astype(np.float32))


def test_ms_ssim_falls_with_noise() -> None:
    a, light = noisy_pair((200, 200), 3)
    _, heavy = noisy_pair((200, 200), 30)
    assert 1.0 > ms_ssim(a, light) > ms_ssim(a, heavy) > 0.0


def test_scale_count_follows_image_size() -> None:
    assert ms_ssim_scales(161, 500) == 5
    assert ms_ssim_scales(160, 500) == 4
    assert ms_ssim_scales(64, 64) == 3
    assert ms_ssim_scales(11, 11) == 1
    assert ms_ssim_scales(10, 40) == 0


def test_five_scale_loop_equals_the_library() -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 3, 170, 176, dtype=torch.float64)
    y = (x + 0.05 * torch.randn_like(x)).clamp(0, 1)
    expected = library_ms_ssim(x, y, data_range=1.0)
    assert float(ms_ssim_over_scales(x, y, 1.0, 5)) == pytest.approx(float(expected), abs=1e-12)
    assert float(ms_ssim_tensor(x, y)) == pytest.approx(float(expected), abs=1e-12)


def test_small_images_use_fewer_scales_and_too_small_is_an_error() -> None:
    a, b = noisy_pair((64, 64), 10)
    value = ms_ssim(a, b)
    assert 0.0 < value < 1.0
    with pytest.raises(ValueError, match=r"\(8, 8\).*too small"):
        ms_ssim(a[:8, :8], b[:8, :8])


def test_ms_ssim_tensor_is_differentiable() -> None:
    x = torch.rand(1, 3, 48, 48)
    y = x.clone().requires_grad_(True)
    with torch.no_grad():
        y.add_(0.1 * torch.randn_like(y))
    (1 - ms_ssim_tensor(x, y)).backward()
    assert y.grad is not None and torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0


def test_ms_ssim_db() -> None:
    assert ms_ssim_db(0.99) == pytest.approx(20.0)
    assert ms_ssim_db(1.0) == math.inf
