"""Choosing a variable-rate codec's rate position from what a user asks for.

`--rate` takes a position on the model's rate points ("2.5"), a target size ("0.5bpp": the
highest position whose real bitstream fits) or a target quality ("32dB": the lowest position
whose decoded image reaches that PSNR). Targets are met on real encodings by bisection over the
position (bits and quality grow with it), so what is promised is what the file holds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from codec.metrics import psnr_from_mse

if TYPE_CHECKING:
    from codec.model import LearnedCodec

RateKind = Literal["position", "bpp", "psnr"]
# (encode, decode) at a rate position; None: the model's top (or only) rate.
Coders = Callable[
    [float | None], tuple[Callable[[np.ndarray], bytes], Callable[[bytes], np.ndarray]]
]
BISECTION_STEPS = 8  # 1/256 of the position range: finer than any visible rate change
_PATTERN = re.compile(r"^\s*(?P<value>[0-9]*\.?[0-9]+)\s*(?P<unit>bpp|db)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class RateTarget:
    kind: RateKind
    value: float


@dataclass(frozen=True)
class RateChoice:
    position: float | None  # None: the model's only (or top) rate
    data: bytes
    met: bool  # whether the target was reachable


def parse_rate(text: str) -> RateTarget:
    """'2.5' -> position, '0.5bpp' -> size target, '32dB' -> PSNR target; ValueError otherwise."""
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(
            f"--rate {text!r}: expected a rate position (2.5), a size (0.5bpp) or a PSNR (32dB)"
        )
    value, unit = float(match["value"]), (match["unit"] or "").lower()
    kind: RateKind = "bpp" if unit == "bpp" else "psnr" if unit == "db" else "position"
    if kind != "position" and value <= 0:
        raise ValueError(f"--rate {text!r}: a target must be > 0")
    return RateTarget(kind, value)


def rate_points(model: LearnedCodec) -> int:
    gains = model.rate_gains
    return 1 if gains is None else int(gains.points)


def encode_at_rate(
    model: LearnedCodec,
    pixels: np.ndarray,
    target: RateTarget | None,
    coder: Coders,
) -> RateChoice:
    """Encode `pixels` at the position `target` asks for. `coder(position)` gives (encode,
    decode) functions at that position (the CLI's tiled coder)."""
    points = rate_points(model)
    if target is None:
        return RateChoice(None, coder(None)[0](pixels), True)
    if target.kind == "position":
        if not 0 <= target.value <= points - 1:
            raise ValueError(
                f"--rate {target.value:g}: this model has {points} rate point(s), positions "
                f"0..{points - 1}"
            )
        position = None if points == 1 else target.value
        return RateChoice(position, coder(position)[0](pixels), True)
    if points == 1:
        raise ValueError(
            f"--rate with a {target.kind} target needs a variable-rate model; this one has one rate"
        )
    return _bisect(pixels, target, points - 1, coder)


def _bisect(
    pixels: np.ndarray,
    target: RateTarget,
    top: float,
    coder: Coders,
) -> RateChoice:
    """Bits and quality grow with the position: keep the best position that meets the target."""
    pixel_count = pixels.shape[0] * pixels.shape[1]

    def attempt(position: float) -> tuple[bytes, bool]:
        encode, decode = coder(position)
        data = encode(pixels)
        if target.kind == "bpp":
            return data, len(data) * 8 / pixel_count <= target.value
        error = np.mean((decode(data).astype(np.float64) - pixels.astype(np.float64)) ** 2)
        psnr = math.inf if error == 0 else psnr_from_mse(float(error) / 255.0**2)
        return data, psnr >= target.value

    # "fits": size targets want the highest fitting position, quality targets the lowest.
    wants_high = target.kind == "bpp"
    low, high = 0.0, top
    edge = low if wants_high else high
    data, ok = attempt(edge)
    if not ok:  # even the smallest (largest) position misses: say so, give the closest
        return RateChoice(edge, data, False)
    best = (edge, data)
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        data, ok = attempt(middle)
        if ok == wants_high:
            low = middle
        else:
            high = middle
        if ok:
            best = (middle, data)
    return RateChoice(best[0], best[1], True)
