"""Copying one tensor, or one layer, of a trained codec into a new one whose shapes may differ.

Channel dimensions are matched from the start (channel c of the source is channel c of the
target: pixel-(un)shuffle and Haar layers keep a channel's four bands together, so this holds
for them too); kernel dimensions are matched around their centre. Where a convolution grows,
the weights that connect its old outputs to new inputs, or to the new ring of a larger kernel,
are zero: the old outputs compute what they computed in the source (function-preserving). New
outputs keep their fresh initialisation, so they can learn; the next layer ignores them until
it learns to use them, since its weights from new inputs start at zero.
"""

from __future__ import annotations

import torch
from torch import nn

from codec.convscale import ConvScale
from codec.gdn import GDN, PEDESTAL
from search_spaces.inheritance.report import Inherited, Recorder

_KERNEL_DIMS = (2, 3)


def copy_overlap(
    target: torch.Tensor,
    source: torch.Tensor,
    *,
    out_dim: int | None = None,
    kernel_dims: tuple[int, ...] = (),
) -> tuple[Inherited, int]:
    """Copy the overlap of `source` into `target` in place; (kind, elements copied).

    With `out_dim`, the target's old outputs (the first ones along `out_dim`) are zeroed first,
    so their weights from new inputs and kernel positions are zero after the copy.
    """
    if target.ndim != source.ndim:
        return "fresh", 0
    t_index: list[slice] = []
    s_index: list[slice] = []
    for dim, (t_size, s_size) in enumerate(zip(target.shape, source.shape, strict=True)):
        n = min(t_size, s_size)
        t_start = (t_size - n) // 2 if dim in kernel_dims else 0
        s_start = (s_size - n) // 2 if dim in kernel_dims else 0
        t_index.append(slice(t_start, t_start + n))
        s_index.append(slice(s_start, s_start + n))
    if out_dim is not None:
        old_outputs = [slice(None)] * target.ndim
        old_outputs[out_dim] = t_index[out_dim]
        target[tuple(old_outputs)] = 0
    part = source[tuple(s_index)].to(device=target.device, dtype=target.dtype)
    target[tuple(t_index)] = part
    return kind_of(target.shape, source.shape), part.numel()


def kind_of(target: torch.Size, source: torch.Size) -> Inherited:
    if target == source:
        return "exact"
    if all(t <= s for t, s in zip(target, source, strict=True)):
        return "sliced"
    return "grown"


def _depthwise(conv: nn.Conv2d | nn.ConvTranspose2d) -> bool:
    return isinstance(conv, nn.Conv2d) and conv.groups == conv.in_channels == conv.out_channels


def copy_conv(
    target: nn.Conv2d | nn.ConvTranspose2d,
    source: nn.Conv2d | nn.ConvTranspose2d,
    name: str,
    recorder: Recorder,
) -> None:
    """A (transposed) convolution; the output dimension is 0 for Conv2d, 1 for ConvTranspose2d."""
    if type(target) is not type(source) or target.stride != source.stride:
        return
    if (target.groups, source.groups) != (1, 1):
        # Grouped convolutions fit by channel prefix only when both are depthwise.
        if not (_depthwise(target) and _depthwise(source)) and (
            target.weight.shape != source.weight.shape
        ):
            return
    out_dim = 1 if isinstance(target, nn.ConvTranspose2d) else 0
    kind, copied = copy_overlap(
        target.weight, source.weight, out_dim=out_dim, kernel_dims=_KERNEL_DIMS
    )
    recorder.record(f"{name}.weight", kind, copied)
    if target.bias is not None and source.bias is not None:
        kind, copied = copy_overlap(target.bias, source.bias)
        recorder.record(f"{name}.bias", kind, copied)


def copy_gdn(target: GDN, source: GDN, name: str, recorder: Recorder) -> None:
    """beta by channel; gamma's overlapping block, with zero coupling to new channels."""
    if (target.inverse, target.simplified) != (source.inverse, source.simplified):
        return
    kind, copied = copy_overlap(target.beta, source.beta)
    recorder.record(f"{name}.beta", kind, copied)
    n = min(target.gamma.shape[0], source.gamma.shape[0])
    zero = PEDESTAL**0.5  # the stored value of an effective gamma of exactly 0
    target.gamma[:n, n:] = zero
    target.gamma[n:, :n] = zero
    kind, copied = copy_overlap(target.gamma, source.gamma)
    recorder.record(f"{name}.gamma", kind, copied)


def copy_conv_scale(target: nn.Module, source: nn.Module, name: str, recorder: Recorder) -> bool:
    """ConvScale and plain Conv2d in any pairing (a plain conv is a ConvScale of scale 1).

    False when neither side is a ConvScale (not this rule's business).
    """
    if isinstance(target, ConvScale) and isinstance(source, ConvScale):
        copy_conv(target.conv, source.conv, f"{name}.conv", recorder)
        kind, copied = copy_overlap(target.scale, source.scale)
        recorder.record(f"{name}.scale", kind, copied)
    elif isinstance(target, ConvScale) and isinstance(source, nn.Conv2d):
        copy_conv(target.conv, source, f"{name}.conv", recorder)
        n = min(target.scale.numel(), source.out_channels)
        target.scale[:n] = 1.0
        recorder.record(f"{name}.scale", "exact" if n == target.scale.numel() else "grown", n)
    elif isinstance(target, nn.Conv2d) and isinstance(source, ConvScale):
        copy_conv(target, source.fold(), name, recorder)
    else:
        return False
    return True
