"""Image quality metrics: PSNR, MS-SSIM, SSIMULACRA2 and FLIP, and the registry of them.

Convention: the public metrics `psnr` and `ms_ssim` compare two **uint8 arrays of the same shape**
(normally (H, W, 3) RGB), the form in which a decoded image is delivered, with an 8-bit peak (255).
Tensors in [0, 1] are converted with `codec.images.to_pixels` first. Training uses the
differentiable tensor form `ms_ssim_tensor` and `psnr_from_mse`.

MS-SSIM uses `pytorch_msssim` with its defaults (11x11 Gaussian window, sigma 1.5, five scales with
the weights of Wang et al. 2003). Five scales need a shorter side above 160 px; smaller images fall
back to as many scales as fit, keeping the finest scales' weights renormalised to the five-scale
total (a 64 px image uses 3 scales). Below 11 px not even one scale fits and a ValueError is raised.

Two perceptual metrics run offline from PyPI wheels: SSIMULACRA2 (`ssimulacra2`, the JPEG XL
project's metric in numpy/scipy, 100 = identical, ~70 = high quality, ~0.9 s for a Kodak image)
and NVIDIA's FLIP (`flip-evaluator`, LDR mode, mean error in [0, 1], 0 = identical, lower is
better). FLIP was preferred over Butteraugli because it installs as a self-contained wheel, where
Butteraugli needs Debian's libjxl0.7 loaded through ctypes.

`QUALITY_METRICS` names every metric a campaign may choose for its objective or an anchor curve,
with the monotone "quality axis" on which rate–quality curves are interpolated (dB for PSNR and
MS-SSIM, the score for SSIMULACRA2, -10 log10(error) for FLIP), so higher is better on every axis.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from pytorch_msssim import ms_ssim as _library_ms_ssim
from pytorch_msssim.ssim import _fspecial_gauss_1d, _ssim

from codec.metric_names import QUALITY_METRIC_NAMES

MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
MS_SSIM_WINDOW = 11
_WINDOW_SIGMA = 1.5


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.dtype != np.uint8 or b.dtype != np.uint8:
        raise TypeError(f"metrics expect uint8 arrays, got {a.dtype} and {b.dtype}")
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")


def psnr_from_mse(mse: float, peak: float = 1.0) -> float:
    """PSNR in dB for a mean squared error measured on a scale whose maximum is `peak`."""
    if mse < 0 or math.isnan(mse):
        raise ValueError(f"mse must be >= 0, got {mse}")
    if mse == 0:
        return math.inf
    return 10.0 * math.log10(peak * peak / mse)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 arrays, peak 255; +inf when they are identical."""
    _check_pair(a, b)
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return psnr_from_mse(mse, peak=255.0)


def ms_ssim_scales(height: int, width: int) -> int:
    """How many MS-SSIM scales (1..5) fit an image of this size; 0 if none."""
    smaller_side = min(height, width)
    scales = 0
    for level in range(1, len(MS_SSIM_WEIGHTS) + 1):
        # same bound as pytorch_msssim for five scales: side > (window - 1) * 2**(scales - 1)
        if smaller_side > (MS_SSIM_WINDOW - 1) * 2 ** (level - 1):
            scales = level
    return scales


def ms_ssim_tensor(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Mean MS-SSIM over a batch (B, C, H, W), differentiable; fewer scales for small images."""
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(
            f"expected two (B, C, H, W) tensors of one shape, got "
            f"{tuple(x.shape)} and {tuple(y.shape)}"
        )
    scales = ms_ssim_scales(int(x.shape[-2]), int(x.shape[-1]))
    if scales == 0:
        raise ValueError(
            f"image {tuple(x.shape[-2:])} is too small for MS-SSIM: "
            f"the shorter side must exceed {MS_SSIM_WINDOW - 1} px"
        )
    if scales == len(MS_SSIM_WEIGHTS):
        return _library_ms_ssim(x, y, data_range=data_range, size_average=True)
    return ms_ssim_over_scales(x, y, data_range, scales)


def ms_ssim_over_scales(
    x: torch.Tensor, y: torch.Tensor, data_range: float, scales: int
) -> torch.Tensor:
    """MS-SSIM over the `scales` finest scales, their weights renormalised.

    pytorch_msssim asserts that all five scales fit; this mirrors its loop for fewer scales
    (with scales=5 it gives the library's value, which the tests check).
    """
    if not 1 <= scales <= len(MS_SSIM_WEIGHTS):
        raise ValueError(f"scales must be in 1..{len(MS_SSIM_WEIGHTS)}, got {scales}")
    # Rescaled to the five-scale total (1.0001 in the published weights), so that scales=5 is
    # exactly the library's value and fewer scales keep the same relative weights.
    weights = x.new_tensor(MS_SSIM_WEIGHTS[:scales])
    weights = weights * (sum(MS_SSIM_WEIGHTS) / weights.sum())
    window = _fspecial_gauss_1d(MS_SSIM_WINDOW, _WINDOW_SIGMA).to(x)
    window = window.repeat([x.shape[1], 1, 1, 1])
    contrast_structure: list[torch.Tensor] = []
    ssim_per_channel = x.new_zeros(())
    for level in range(scales):
        ssim_per_channel, cs = _ssim(
            x, y, data_range=data_range, win=window, size_average=False, K=(0.01, 0.03)
        )
        if level < scales - 1:
            contrast_structure.append(torch.relu(cs))
            padding = [s % 2 for s in x.shape[2:]]
            x = torch.nn.functional.avg_pool2d(x, kernel_size=2, padding=padding)
            y = torch.nn.functional.avg_pool2d(y, kernel_size=2, padding=padding)
    stacked = torch.stack([*contrast_structure, torch.relu(ssim_per_channel)], dim=0)
    return torch.prod(stacked ** weights.view(-1, 1, 1), dim=0).mean()


def ms_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """MS-SSIM of two uint8 (H, W, 3) arrays in [0, 1] (1.0 when identical)."""
    _check_pair(a, b)
    if a.ndim != 3:
        raise ValueError(f"ms_ssim expects (H, W, C) arrays, got shape {a.shape}")
    with torch.no_grad():
        value = ms_ssim_tensor(_as_batch(a), _as_batch(b), data_range=255.0)
    return float(value)


def _as_batch(pixels: np.ndarray) -> torch.Tensor:
    """(H, W, C) uint8 -> (1, C, H, W) float64 on the 0..255 scale."""
    # a copy: decoded images are often read-only arrays, which torch warns about sharing
    return torch.from_numpy(np.array(pixels)).permute(2, 0, 1)[None].double()


def ms_ssim_db(value: float) -> float:
    """MS-SSIM on a dB scale, -10 log10(1 - value): the usual axis for rate–quality curves."""
    if math.isnan(value):
        raise ValueError("MS-SSIM value is NaN")
    if value >= 1.0:
        return math.inf
    return -10.0 * math.log10(1.0 - value)


def ssimulacra2(a: np.ndarray, b: np.ndarray) -> float:
    """SSIMULACRA2 score of `b` against the reference `a` (uint8 (H, W, 3)); 100 when identical."""
    _check_pair(a, b)
    _check_rgb(a, "ssimulacra2")
    # Imported here: scipy.ndimage costs every importer of codec.metrics ~0.3 s otherwise.
    from ssimulacra2 import compute_ssimulacra2

    # The package reads its inputs with Image.open; uncompressed in-memory PNGs cost ~5 ms.
    return float(compute_ssimulacra2(_png_file(a), _png_file(b)))


def _png_file(pixels: np.ndarray) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG", compress_level=0)
    buffer.seek(0)
    return buffer


def flip(a: np.ndarray, b: np.ndarray) -> float:
    """Mean LDR-FLIP error of `b` against the reference `a` (uint8 (H, W, 3)); 0 when identical.

    Default viewing conditions of the FLIP paper (67 pixels per degree).
    """
    _check_pair(a, b)
    _check_rgb(a, "flip")
    import flip_evaluator  # loads a native library with its own OpenMP runtime: only on use

    reference = a.astype(np.float32) / 255.0
    test = b.astype(np.float32) / 255.0
    _, mean_error, _ = flip_evaluator.evaluate(reference, test, "LDR", applyMagma=False)
    return float(mean_error)


def _check_rgb(pixels: np.ndarray, metric: str) -> None:
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"{metric} expects (H, W, 3) RGB arrays, got shape {pixels.shape}")
    if min(pixels.shape[:2]) < 8:
        raise ValueError(f"{metric} needs images of at least 8x8 pixels, got {pixels.shape[:2]}")


def flip_db(value: float) -> float:
    """FLIP error on a dB scale, -10 log10(error): rises as the error falls, like PSNR."""
    if math.isnan(value) or value < 0:
        raise ValueError(f"FLIP error must be >= 0, got {value}")
    if value == 0:
        return math.inf
    return -10.0 * math.log10(value)


@dataclass(frozen=True)
class QualityMetric:
    """A full-reference metric: how to measure it and its rising axis for rate–quality curves."""

    name: str
    measure: Callable[[np.ndarray, np.ndarray], float]  # (reference, decoded) -> value
    to_axis: Callable[[float], float]  # monotone, higher = better quality; may return +inf
    higher_is_better: bool
    label: str  # for tables and plot axes


def _identity(value: float) -> float:
    if math.isnan(value):
        raise ValueError("quality value is NaN")
    return value


QUALITY_METRICS: dict[str, QualityMetric] = {
    metric.name: metric
    for metric in (
        QualityMetric("psnr", psnr, _identity, True, "PSNR (dB)"),
        QualityMetric("ms_ssim", ms_ssim, ms_ssim_db, True, "MS-SSIM (dB)"),
        QualityMetric("ssimulacra2", ssimulacra2, _identity, True, "SSIMULACRA2"),
        QualityMetric("flip", flip, flip_db, False, "FLIP (-10 log10 error)"),
    )
}


def quality_metric(name: str) -> QualityMetric:
    """The registered metric called `name`; ValueError naming it and the valid names if unknown."""
    try:
        return QUALITY_METRICS[name]
    except KeyError:
        raise ValueError(
            f"unknown quality metric {name!r}; expected one of {tuple(QUALITY_METRICS)}"
        ) from None


if tuple(QUALITY_METRICS) != QUALITY_METRIC_NAMES:
    raise ImportError(
        f"codec.metric_names lists {QUALITY_METRIC_NAMES}, not {tuple(QUALITY_METRICS)}"
    )
