"""Refit a trained codec's scale decoder alone, on the real symbols of whole photos.

The scale decoder only picks the entropy coder's table for each element of y. With the other
parts frozen, neither the coded symbols (z, and y or its residuals around the context model's
means) nor the decoded image depend on it. So it can be trained on its own, after the rest, to
minimise the real code length of those symbols: the distortion stays exactly as it was and every
bit saved is a bit of BD-rate.

Why: the scale decoder is trained on 128-256 px crops, where z is 2x2 to 4x4 and every
position is a border; a photo's z is mostly interior. Refitting on the symbols of whole photos
shows it the statistics it is used on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from codec.entropy.gaussian import gaussian_bin_probabilities
from codec.entropy.lower_bound import lower_bound
from codec.entropy.scale_decoder import ScaleDecoder
from codec.images import NamedImage, to_tensor
from codec.model import LearnedCodec

LIKELIHOOD_FLOOR = 1e-9  # as the Gaussian conditional's training likelihood


@dataclass(frozen=True)
class CodedSymbols:
    """The integer symbols of one photo at one rate position, as the bitstream holds them."""

    name: str
    position: float | None
    z: torch.Tensor  # (1, Nh, h, w), integer-valued float32
    y: torch.Tensor  # (1, M, H, W), the Gaussian-coded symbols (y, or its residuals)
    pixels: int  # of the padded image the latents cover: bits per pixel divide by this


@dataclass(frozen=True)
class RefitProgress:
    step: int
    steps: int
    bits_per_pixel: float  # y's bits per pixel, mean over the steps since the last report
    elapsed_s: float


@dataclass(frozen=True)
class RefitReport:
    bpp_before: float  # y's bits per pixel over all the samples, with the scales as they were
    bpp_after: float
    steps: int
    seconds: float


def coded_symbols(
    model: LearnedCodec, images: Sequence[NamedImage], positions: Sequence[float | None]
) -> list[CodedSymbols]:
    """The symbols compress() codes for every image at every rate position."""
    if model.h_s is None:
        raise ValueError("only a hyperprior model has a scale decoder to refit")
    per_element = (2**model.architecture.stages) ** 2  # pixels behind one element of y
    samples = []
    for image in images:
        x = to_tensor(image.pixels)
        for position in positions:
            symbols = model.encode_latents(x, rate=position)
            y = symbols["y"]
            pixels = y.shape[2] * y.shape[3] * per_element
            samples.append(CodedSymbols(image.name, position, symbols["z"], y, pixels))
    return samples


def symbol_bits(scale_decoder: ScaleDecoder, sample: CodedSymbols) -> torch.Tensor:
    """-log2 P(y symbols) under the tables the scale decoder picks from z; differentiable."""
    scales = scale_decoder.scales(sample.z)
    probabilities = gaussian_bin_probabilities(sample.y, scales)
    return -torch.log2(lower_bound(probabilities, LIKELIHOOD_FLOOR)).sum()


def _bpp(scale_decoder: ScaleDecoder, samples: Sequence[CodedSymbols]) -> float:
    was_training = scale_decoder.training
    scale_decoder.eval()
    with torch.no_grad():
        bits = sum(float(symbol_bits(scale_decoder, s)) for s in samples)
    scale_decoder.train(was_training)
    return bits / sum(s.pixels for s in samples)


def refit_scale_decoder(
    model: LearnedCodec,
    samples: Sequence[CodedSymbols],
    steps: int,
    learning_rate: float = 1e-3,
    seed: int = 0,
    log_every: int = 100,
    on_progress: Callable[[RefitProgress], None] | None = None,
) -> RefitReport:
    """Train the scale decoder on `samples` (one per step, shuffled each pass) with Adam, a
    warm-up over the first 5% of the steps and one x0.1 decay at 80%; then prepare for coding."""
    scale_decoder = model.h_s
    if scale_decoder is None:
        raise ValueError("only a hyperprior model has a scale decoder to refit")
    if not samples or steps < 1:
        raise ValueError(f"need samples and steps >= 1, got {len(samples)} and {steps}")
    before = _bpp(scale_decoder, samples)
    optimizer = torch.optim.Adam(scale_decoder.parameters(), lr=learning_rate)
    order = random.Random(seed)
    queue: list[CodedSymbols] = []
    warmup = max(1, steps // 20)
    started = time.perf_counter()
    window_bits, window_pixels = 0.0, 0
    scale_decoder.train()
    for step in range(1, steps + 1):
        if not queue:
            queue = list(samples)
            order.shuffle(queue)
        sample = queue.pop()
        decay = 0.1 if step > 0.8 * steps else 1.0
        for group in optimizer.param_groups:
            group["lr"] = learning_rate * min(1.0, step / warmup) * decay
        bits = symbol_bits(scale_decoder, sample)
        optimizer.zero_grad(set_to_none=True)
        (bits / sample.pixels).backward()
        torch.nn.utils.clip_grad_norm_(scale_decoder.parameters(), 1.0)
        optimizer.step()
        window_bits += float(bits.detach())
        window_pixels += sample.pixels
        if on_progress is not None and (step % log_every == 0 or step == steps):
            elapsed = time.perf_counter() - started
            on_progress(RefitProgress(step, steps, window_bits / window_pixels, elapsed))
            window_bits, window_pixels = 0.0, 0
    after = _bpp(scale_decoder, samples)
    model.eval()
    model.prepare_for_coding()
    return RefitReport(before, after, steps, time.perf_counter() - started)
