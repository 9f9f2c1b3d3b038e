"""Generalized divisive normalization (Balle et al. 2016) and its simplified form (Johnston 2018).

    GDN:             y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)
    IGDN:            y_i = x_i * sqrt(beta_i + sum_j gamma_ij x_j^2)
    simplified GDN:  y_i = x_i / (beta_i + sum_j gamma_ij |x_j|)     (and its inverse)

GDN after each resampling of the analysis transform, IGDN in the synthesis: DESIGN.md measured a
textbook hyperprior at 1.03-1.05x JPEG's bits after 10,000 CPU steps with GDN and 1.71x with ReLU.

beta and gamma are kept non-negative by CompressAI's reparameterisation (store sqrt(v +
pedestal), bound it from below with a gradient that may still push it up), which is what lets
them train at the same learning rate as the convolutions. fold() returns `FrozenGDN`: the same
function with the reparameterisation evaluated once, plain tensor ops for ONNX and Core ML.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

PEDESTAL = 2.0**-36
BETA_MIN = 1e-6
GAMMA_INIT = 0.1


class _LowerBound(torch.autograd.Function):
    """max(x, bound) whose gradient still flows where it would raise x back above the bound."""

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor, bound: float
    ) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.bound = bound  # type: ignore[attr-defined]
        return x.clamp_min(bound)

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor
    ) -> tuple[torch.Tensor, None]:
        (x,) = ctx.saved_tensors  # type: ignore[attr-defined]
        passes = (x >= ctx.bound) | (grad < 0)  # type: ignore[attr-defined]
        return grad * passes.to(grad.dtype), None


def _nonnegative(stored: torch.Tensor, minimum: float) -> torch.Tensor:
    bound = (minimum + PEDESTAL) ** 0.5
    bounded: torch.Tensor = _LowerBound.apply(stored, bound)
    return bounded**2 - PEDESTAL


def _normalize(
    x: torch.Tensor, beta: torch.Tensor, gamma: torch.Tensor, inverse: bool, simplified: bool
) -> torch.Tensor:
    energy = x.abs() if simplified else x * x
    norm = F.conv2d(energy, gamma.view(*gamma.shape, 1, 1), beta)
    if not simplified:
        norm = torch.sqrt(norm)
    return x * norm if inverse else x / norm


class GDN(nn.Module):
    """GDN over the channels of (B, C, H, W); `inverse` gives IGDN, `simplified` Johnston's form."""

    def __init__(self, channels: int, inverse: bool = False, simplified: bool = False) -> None:
        super().__init__()
        self.inverse = inverse
        self.simplified = simplified
        self.beta = nn.Parameter(torch.full((channels,), (1.0 + PEDESTAL) ** 0.5))
        gamma = GAMMA_INIT * torch.eye(channels) + PEDESTAL
        self.gamma = nn.Parameter(gamma.sqrt())

    def effective(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(beta, gamma) as the formula uses them."""
        return _nonnegative(self.beta, BETA_MIN), _nonnegative(self.gamma, 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beta, gamma = self.effective()
        if x.dtype == torch.float32:
            return _normalize(x, beta, gamma, self.inverse, self.simplified)
        # Under mixed precision: x^2 in bfloat16 loses the small values that matter.
        with torch.autocast(x.device.type, enabled=False):
            out = _normalize(x.float(), beta.float(), gamma.float(), self.inverse, self.simplified)
        return out.to(x.dtype)

    @torch.no_grad()
    def fold(self) -> FrozenGDN:
        beta, gamma = self.effective()
        return FrozenGDN(
            beta.detach().clone(), gamma.detach().clone(), self.inverse, self.simplified
        )

    def extra_repr(self) -> str:
        return f"{self.beta.numel()}, inverse={self.inverse}, simplified={self.simplified}"


class FrozenGDN(nn.Module):
    """GDN with fixed beta and gamma (buffers): what inference, ONNX and Core ML run."""

    beta: torch.Tensor
    gamma: torch.Tensor

    def __init__(
        self, beta: torch.Tensor, gamma: torch.Tensor, inverse: bool, simplified: bool
    ) -> None:
        super().__init__()
        self.inverse = inverse
        self.simplified = simplified
        self.register_buffer("beta", beta)
        self.register_buffer("gamma", gamma)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _normalize(x, self.beta, self.gamma, self.inverse, self.simplified)
