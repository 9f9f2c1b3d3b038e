"""Fold training-time reparameterisations into plain layers for inference and export.

ConvScale becomes one convolution, a Haar resampling the pixel-shuffle layer it equals, a GDN
its reparameterised beta and gamma evaluated once. The
folded module is a deep copy, so the trained model keeps its parameters for further training;
a module with nothing to fold is returned as it is (no copy of its weights, hooks kept).
"""

from __future__ import annotations

import copy

from torch import nn

from codec.convscale import ConvScale
from codec.gdn import GDN
from codec.resampling import HaarDown, HaarUp

FOLDABLE = (ConvScale, HaarDown, HaarUp, GDN)


def fold_for_inference(module: nn.Module) -> nn.Module:
    """A copy of `module` with every foldable layer replaced by its plain equivalent."""
    if not any(isinstance(m, FOLDABLE) for m in module.modules()):
        return module
    folded = copy.deepcopy(module).eval()
    if isinstance(folded, FOLDABLE):
        return folded.fold().eval()
    _fold_children(folded)
    return folded


def _fold_children(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, FOLDABLE):
            setattr(module, name, child.fold())
        else:
            _fold_children(child)
