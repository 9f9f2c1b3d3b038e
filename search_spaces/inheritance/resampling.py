"""Resampling layers of different kinds initialise each other (codec/resampling.py).

Every kind is, or contains, a 2x2 stride-2 kernel: pixel (un)shuffle with a 1x1 conv is
exactly one; Haar is the same with the weights in the Haar basis (orthonormal and symmetric:
its own inverse, so `fold()` converts both ways); a 5x5 stride-2 conv (padding 2) holds one at
kernel positions 2..3, the ring around it zero. So Haar and pixel shuffle convert exactly, a
Haar or pixel-shuffle down-sampling becomes a strided conv with the same function, and a
strided conv gives a 1x1 layer its central 2x2 taps (a slice: the ring is lost). Up-sampling
1x1 layers have a bias per output position that a transposed conv cannot hold: it gets their
mean (exact only when they are equal).
"""

from __future__ import annotations

import torch
from torch import nn

from codec.resampling import CONV_KERNEL, ConvShuffle, HaarDown, HaarUp, UnshuffleConv
from search_spaces.inheritance.report import Recorder
from search_spaces.inheritance.tensors import copy_overlap

# weight (.., .., 2, 2), bias (out,) down or (out, 4) up (one per output position), exact
Kernel = tuple[torch.Tensor, torch.Tensor, bool]
_CORE = slice(CONV_KERNEL // 2, CONV_KERNEL // 2 + 2)  # positions of the 2x2 core in 5x5


def copy_resampling(target: nn.Module, source: nn.Module, name: str, recorder: Recorder) -> bool:
    """Copy between resampling layers of different kinds; False when the kinds are the same
    (or not resampling layers): the ordinary rules apply then."""
    if type(target) is type(source):
        return False
    down = _down_kernel(source)
    if down is not None and _set_down(target, down, name, recorder):
        return True
    up = _up_kernel(source)
    return up is not None and _set_up(target, up, name, recorder)


def _is_strided(module: nn.Module, kind: type[nn.Conv2d | nn.ConvTranspose2d]) -> bool:
    return isinstance(module, kind) and type(module) is kind and tuple(module.stride) == (2, 2)


def _down_kernel(layer: nn.Module) -> Kernel | None:
    """(out, in, 2, 2) weights and bias of a down-sampling layer."""
    if isinstance(layer, HaarDown):
        layer = layer.fold()
    if type(layer) is UnshuffleConv:
        weight = layer.conv.weight
        out_ch, in4 = weight.shape[:2]
        return weight.reshape(out_ch, in4 // 4, 2, 2), _bias(layer.conv), True
    if _is_strided(layer, nn.Conv2d):
        assert isinstance(layer, nn.Conv2d)
        return layer.weight[:, :, _CORE, _CORE], _bias(layer), False
    return None


def _up_kernel(layer: nn.Module) -> Kernel | None:
    """(in, out, 2, 2) weights (transposed-conv layout) and bias of an up-sampling layer."""
    if isinstance(layer, HaarUp):
        layer = layer.fold()
    if type(layer) is ConvShuffle:
        weight, bias = layer.conv.weight, _bias(layer.conv)
        out4, in_ch = weight.shape[:2]
        kernel = weight.reshape(out4 // 4, 2, 2, in_ch).permute(3, 0, 1, 2)
        return kernel, bias.reshape(out4 // 4, 4), True
    if _is_strided(layer, nn.ConvTranspose2d):
        assert isinstance(layer, nn.ConvTranspose2d)
        bias = _bias(layer)[:, None].expand(-1, 4)
        return layer.weight[:, :, _CORE, _CORE], bias, False
    return None


def _bias(conv: nn.Conv2d | nn.ConvTranspose2d) -> torch.Tensor:
    assert conv.bias is not None
    return conv.bias


def _set_down(target: nn.Module, kernel: Kernel, name: str, recorder: Recorder) -> bool:
    weight, bias, exact = kernel
    out_ch, in_ch = weight.shape[:2]
    if _is_strided(target, nn.Conv2d):
        full = weight.new_zeros(out_ch, in_ch, CONV_KERNEL, CONV_KERNEL)
        full[:, :, _CORE, _CORE] = weight
        _write(target, full, bias, 0, exact, name, recorder)
        return True
    if type(target) not in (UnshuffleConv, HaarDown):
        return False
    assert isinstance(target, UnshuffleConv)
    pixels = weight.reshape(out_ch, in_ch * 4, 1, 1)
    if isinstance(target, HaarDown):  # the Haar transform is its own inverse
        pixels = _refold(HaarDown(in_ch, out_ch), pixels, bias)
    _write(target.conv, pixels, bias, 0, exact, f"{name}.conv", recorder)
    return True


def _set_up(target: nn.Module, kernel: Kernel, name: str, recorder: Recorder) -> bool:
    weight, bias, exact = kernel
    in_ch, out_ch = weight.shape[:2]
    if _is_strided(target, nn.ConvTranspose2d):
        full = weight.new_zeros(in_ch, out_ch, CONV_KERNEL, CONV_KERNEL)
        full[:, :, _CORE, _CORE] = weight
        one_bias = bool((bias == bias[:, :1]).all())
        _write(target, full, bias.mean(dim=1), 1, exact and one_bias, name, recorder)
        return True
    if type(target) not in (ConvShuffle, HaarUp):
        return False
    assert isinstance(target, ConvShuffle)
    pixels = weight.permute(1, 2, 3, 0).reshape(out_ch * 4, in_ch, 1, 1)
    bias = bias.reshape(out_ch * 4)
    if isinstance(target, HaarUp):
        folded = HaarUp(in_ch, out_ch)
        folded.conv.weight.copy_(pixels)
        _bias(folded.conv).copy_(bias)
        refolded = folded.fold().conv
        pixels, bias = refolded.weight, _bias(refolded)
    _write(target.conv, pixels, bias, 0, exact, f"{name}.conv", recorder)
    return True


def _refold(layer: HaarDown, pixels: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    layer.conv.weight.copy_(pixels)
    _bias(layer.conv).copy_(bias)
    return layer.fold().conv.weight


def _write(
    conv: nn.Module,
    weight: torch.Tensor,
    bias: torch.Tensor,
    out_dim: int,
    exact: bool,
    name: str,
    recorder: Recorder,
) -> None:
    assert isinstance(conv, nn.Conv2d | nn.ConvTranspose2d)
    kind, copied = copy_overlap(conv.weight, weight, out_dim=out_dim, kernel_dims=(2, 3))
    if conv.weight.shape[-1] == CONV_KERNEL:
        copied = copied * 4 // CONV_KERNEL**2  # the ring is zeros we set, not inherited values
    recorder.record(f"{name}.weight", kind if exact or kind == "grown" else "sliced", copied)
    kind, copied = copy_overlap(_bias(conv), bias)
    recorder.record(f"{name}.bias", kind if exact or kind == "grown" else "sliced", copied)
