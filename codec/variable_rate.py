"""Variable rate: one model, several bitrates, by a gain on the latent (Cui et al., CVPR 2021).

The encoder multiplies y by a per-channel gain before quantization, the decoder multiplies
y_hat by a per-channel inverse gain. There is one pair of vectors per rate point (a lambda the
model was trained for); a rate *position* p in [0, points-1] between two points interpolates
both vectors geometrically, so rates between the trained ones work too. Position 0 is the
lowest rate. The bitstream stores the position in 1/RATE_UNITS steps, and both sides use that
quantized position, so they compute the same gains.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from codec.errors import BitstreamError

RATE_UNITS = 256  # bitstream steps per rate point
MAX_RATE_CODE = (1 << 16) - 1  # stored as uint16
# Ratio of the highest to the lowest lambda a variable-rate model trains (codec/training.py).
LAMBDA_SPAN = 16.0
# Initial gains: the MSE-optimal quantization step goes as 1/sqrt(lambda), so the gains start
# spread over sqrt(LAMBDA_SPAN), geometric mean 1. They used to start at 1 (top) down to 2**-5,
# which rounded the lowest points' latents (std ~0.04 at initialisation) to all zeros: those
# points trained blind for thousands of steps and dragged the shared transforms with them.
INITIAL_GAIN_SPREAD = math.sqrt(LAMBDA_SPAN)


def rate_code(position: float, points: int) -> int:
    """The uint16 the bitstream stores for a rate position; raises naming a bad position."""
    if not (isinstance(position, int | float) and math.isfinite(position)):
        raise ValueError(f"rate position must be a finite number, got {position!r}")
    if not 0 <= position <= points - 1:
        raise ValueError(f"rate position must be in 0..{points - 1}, got {position!r}")
    return round(position * RATE_UNITS)


def position_of_code(code: int) -> float:
    return code / RATE_UNITS


def lambda_grid(center: float, points: int, span: float = LAMBDA_SPAN) -> tuple[float, ...]:
    """`points` lambdas spaced geometrically over [center/sqrt(span), center*sqrt(span)]."""
    if points < 1 or not center > 0 or not span >= 1:
        raise ValueError(f"bad lambda grid: center={center!r} points={points!r} span={span!r}")
    if points == 1:
        return (center,)
    return tuple(center * span ** (k / (points - 1) - 0.5) for k in range(points))


def lambda_at(position: torch.Tensor | float, lambdas: Sequence[float]) -> torch.Tensor:
    """The lambda of a (fractional) rate position: geometric interpolation of the grid."""
    logs = torch.log(torch.tensor(list(lambdas), dtype=torch.float64))
    pos = torch.as_tensor(position, dtype=torch.float64).clamp(0, len(lambdas) - 1)
    low = pos.floor().clamp_max(max(len(lambdas) - 2, 0)).long()
    frac = pos - low
    high = (low + 1).clamp_max(len(lambdas) - 1)
    return torch.exp((1 - frac) * logs[low] + frac * logs[high]).to(torch.float32)


class RateGains(nn.Module):
    def __init__(self, channels: int, points: int) -> None:
        super().__init__()
        if points < 2:
            raise ValueError(f"a variable-rate model needs >= 2 rate points, got {points}")
        self.points = points
        steps = torch.arange(points, dtype=torch.float32) / (points - 1) - 0.5
        log_gain = (steps * math.log(INITIAL_GAIN_SPREAD)).view(-1, 1).expand(-1, channels)
        self.log_gain = nn.Parameter(log_gain.clone())
        self.log_inverse_gain = nn.Parameter(-log_gain.clone())

    def gains(
        self, position: torch.Tensor | float, batch: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(gain, inverse gain), each (B, M, 1, 1), for one position or one per image."""
        device = self.log_gain.device
        pos = torch.as_tensor(position, dtype=torch.float32, device=device).reshape(-1)
        if pos.numel() == 1:
            pos = pos.expand(batch)
        if pos.numel() != batch:
            raise ValueError(f"got {pos.numel()} rate positions for a batch of {batch}")
        if not bool(((pos >= 0) & (pos <= self.points - 1)).all()):
            raise ValueError(f"rate positions must be in 0..{self.points - 1}, got {pos.tolist()}")
        low = pos.floor().clamp_max(self.points - 2).long()
        frac = (pos - low).view(-1, 1)
        gain = (1 - frac) * self.log_gain[low] + frac * self.log_gain[low + 1]
        inverse = (1 - frac) * self.log_inverse_gain[low] + frac * self.log_inverse_gain[low + 1]
        return gain.exp()[:, :, None, None], inverse.exp()[:, :, None, None]


Gains = tuple[torch.Tensor | None, torch.Tensor | None]


def gains_for(rate_gains: RateGains | None, rate: torch.Tensor | float | None, batch: int) -> Gains:
    """(gain, inverse gain) of a model's rate (None: its top point); (None, None) if fixed-rate.

    A fixed-rate model accepts only rate None or 0.
    """
    if rate_gains is None:
        if rate is not None and bool(torch.any(torch.as_tensor(rate) != 0)):
            raise ValueError(f"a fixed-rate model takes rate None or 0, got rate={rate!r}")
        return None, None
    return rate_gains.gains(rate_gains.points - 1 if rate is None else rate, batch)


def coded_position(rate_gains: RateGains | None, rate: float | None) -> float:
    """The rate position as a bitstream carries it (quantized to 1/RATE_UNITS)."""
    if rate_gains is None:
        gains_for(None, rate, 1)  # rejects a non-zero rate
        return 0.0
    points = rate_gains.points
    return position_of_code(rate_code(points - 1 if rate is None else rate, points))


def code_of_position(rate_gains: RateGains | None, position: float) -> int:
    return 0 if rate_gains is None else rate_code(position, rate_gains.points)


def check_rate_code(rate_gains: RateGains | None, code: int) -> None:
    """Raise BitstreamError unless a bitstream's rate code is one this model has."""
    points = 1 if rate_gains is None else rate_gains.points
    if code > (points - 1) * RATE_UNITS:
        raise BitstreamError(
            f"bitstream asks for rate code {code}, beyond this model's {points} rate "
            f"point(s) (max {(points - 1) * RATE_UNITS})"
        )


class RateSampler:
    """Variable-rate training: each step picks a rate position uniformly over the model's
    points and trains it with the lambda of that position, from a geometric grid of lambdas
    centred on the given lmbda (lambda_grid); a fixed-rate model keeps lmbda."""

    def __init__(self, model: nn.Module, lmbda: float) -> None:
        gains = getattr(model, "rate_gains", None)
        self.points = int(gains.points) if gains is not None else 1
        self.lmbda = lmbda
        self.lambdas: tuple[float, ...] = (lmbda,)
        if self.points > 1:
            self.lambdas = tuple(lambda_grid(lmbda, self.points))

    def next(self) -> tuple[float | None, float]:
        """(rate position for the forward, lambda); position None for a fixed-rate model."""
        if self.points == 1:
            return None, self.lmbda
        position = float(torch.rand(()).item()) * (self.points - 1)
        return position, float(lambda_at(position, self.lambdas))
