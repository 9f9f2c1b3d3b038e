"""Lower bound whose gradient still flows when it would lift the value off the bound."""

from __future__ import annotations

from typing import Any

import torch


class _LowerBound(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, bound: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.bound = bound
        return x.clamp_min(bound)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (x,) = ctx.saved_tensors
        # As CompressAI's LowerBound: a clamped value still gets the gradient that would raise it,
        # otherwise a likelihood or scale stuck at the bound would never recover.
        passes = (x >= ctx.bound) | (grad < 0)
        return grad * passes.to(grad.dtype), None


def lower_bound(x: torch.Tensor, bound: float) -> torch.Tensor:
    # Inference and export need no gradient trick: a plain clamp traces to one ONNX op.
    if not (torch.is_grad_enabled() and x.requires_grad) or torch.onnx.is_in_onnx_export():
        return x.clamp_min(bound)
    return _LowerBound.apply(x, bound)
