"""Which part of a trained codec initialises which part of a new one.

The transforms are nn.Sequential lists whose indices shift when a level has more or fewer
blocks, so they are matched by structure, not by state_dict key: each transform is cut into
levels (a level starts at a resampling layer; then the level's GDN, if any; then its blocks).
Levels are keyed by the stage they produce counted from the image (analysis: 1, 2, ... then
the latent; synthesis: ..., 2, 1 then the image), so a 3-stage and a 4-stage codec share the
levels near the image and the layers at the latent. Blocks of a level are matched by index;
a new block of a residual kind starts as the identity (its residual branch outputs zero).

Resampling layers of different kinds convert where they can (resampling.py). The latent codec
(hyper transforms, scale decoder, context model, entropy densities) and the rate gains are
matched by attribute name, recursively, where the module types agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from codec.blocks import InvertedResidualBlock, ResidualBlock
from codec.context_model import GroupNet
from codec.convscale import ConvScale
from codec.gdn import GDN
from codec.model import LearnedCodec
from codec.resampling import ConvShuffle, UnshuffleConv
from search_spaces.inheritance.report import InheritanceReport, Recorder
from search_spaces.inheritance.resampling import copy_resampling
from search_spaces.inheritance.tensors import (
    copy_conv,
    copy_conv_scale,
    copy_gdn,
    copy_overlap,
    kind_of,
)

Indexed = tuple[int, nn.Module]  # (index in the nn.Sequential, module)


@dataclass
class Level:
    resampling: Indexed
    activation: Indexed | None = None  # a GDN; parameter-free activations are skipped
    blocks: list[Indexed] = field(default_factory=list)


def inherit_weights(target: LearnedCodec, source: LearnedCodec) -> InheritanceReport:
    """Copy into `target` (freshly built) every tensor of the trained `source` that fits.

    What does not fit keeps the target's initialisation. Same configs give the same function;
    a target that only adds blocks (of residual kinds), channels, expansion or kernel size
    computes what the source computed (see tensors.py for the rules).
    """
    recorder = Recorder(target)
    with torch.no_grad():
        _transform(target.g_a, source.g_a, "g_a", recorder, analysis=True)
        _transform(target.g_s, source.g_s, "g_s", recorder, analysis=False)
        copy_module(target.latent_codec, source.latent_codec, "latent_codec", recorder)
        if target.rate_gains is not None and source.rate_gains is not None:
            copy_module(target.rate_gains, source.rate_gains, "rate_gains", recorder)
    return recorder.report()


def is_resampling(module: nn.Module) -> bool:
    if isinstance(module, UnshuffleConv | ConvShuffle | nn.ConvTranspose2d):
        return True
    return isinstance(module, nn.Conv2d) and tuple(module.stride) == (2, 2)


def levels(transform: nn.Sequential) -> list[Level]:
    found: list[Level] = []
    for index, module in enumerate(transform):
        if is_resampling(module):
            found.append(Level((index, module)))
        elif not found:
            raise ValueError(f"transform starts with {type(module).__name__}, not a resampling")
        elif isinstance(module, GDN):
            found[-1].activation = (index, module)
        elif any(True for _ in module.parameters()):
            found[-1].blocks.append((index, module))
    return found


def _keyed(transform: nn.Sequential, analysis: bool) -> dict[str, Level]:
    found = levels(transform)
    inner = len(found) - 1
    numbers = range(1, inner + 1) if analysis else range(inner, 0, -1)
    keys = [f"level {n}" for n in numbers] + ["out"]
    return dict(zip(keys, found, strict=True))


def _transform(
    target: nn.Sequential, source: nn.Sequential, name: str, recorder: Recorder, analysis: bool
) -> None:
    source_levels = _keyed(source, analysis)
    for key, level in _keyed(target, analysis).items():
        match = source_levels.get(key)
        if match is None:
            _new_blocks(level.blocks, name, recorder)
            continue
        (t_index, t_layer), (_, s_layer) = level.resampling, match.resampling
        if not copy_resampling(t_layer, s_layer, f"{name}.{t_index}", recorder):
            copy_module(t_layer, s_layer, f"{name}.{t_index}", recorder)
        if level.activation is not None and match.activation is not None:
            t_index, t_act = level.activation
            copy_module(t_act, match.activation[1], f"{name}.{t_index}", recorder)
        for position, (t_index, block) in enumerate(level.blocks):
            pair = match.blocks[position][1] if position < len(match.blocks) else None
            if pair is not None and type(pair) is type(block):
                copy_module(block, pair, f"{name}.{t_index}", recorder)
            else:
                _new_blocks([(t_index, block)], name, recorder)


def _new_blocks(blocks: list[Indexed], name: str, recorder: Recorder) -> None:
    for index, block in blocks:
        if start_as_identity(block):
            recorder.identity(f"{name}.{index}")


def start_as_identity(block: nn.Module) -> bool:
    """Zero the residual branch's output of a residual block; False for other blocks."""
    if isinstance(block, ResidualBlock):
        block.conv2.weight.zero_()
        if block.conv2.bias is not None:
            block.conv2.bias.zero_()
        return True
    if isinstance(block, InvertedResidualBlock):
        project = block.project
        if isinstance(project, ConvScale):
            project.scale.zero_()
        else:
            assert isinstance(project, nn.Conv2d)
            project.weight.zero_()
            if project.bias is not None:
                project.bias.zero_()
        return True
    return False


def copy_module(target: nn.Module, source: nn.Module, name: str, recorder: Recorder) -> None:
    """Copy what fits of `source` into `target`, recursively by attribute name."""
    if copy_conv_scale(target, source, name, recorder):
        return
    if type(target) is not type(source):
        return
    if isinstance(target, nn.Conv2d | nn.ConvTranspose2d):
        copy_conv(target, source, name, recorder)  # type: ignore[arg-type]
        return
    if isinstance(target, GDN):
        copy_gdn(target, source, name, recorder)  # type: ignore[arg-type]
        return
    source_params = dict(source.named_parameters(recurse=False))
    for param_name, param in target.named_parameters(recurse=False):
        if param_name in source_params:
            kind, copied = copy_overlap(param, source_params[param_name])
            recorder.record(f"{name}.{param_name}", kind, copied)
    source_children = dict(source.named_children())
    for child_name, child in target.named_children():
        if child_name in source_children:
            copy_module(child, source_children[child_name], f"{name}.{child_name}", recorder)
    if isinstance(target, GroupNet) and isinstance(source, GroupNet):
        _copy_mean_and_width(target, source, f"{name}.head", recorder)


def _copy_mean_and_width(target: GroupNet, source: GroupNet, name: str, recorder: Recorder) -> None:
    """A learned-width head outputs [means | widths]: each half is matched on its own."""
    if not (target.learned_width and source.learned_width):
        return
    index = len(target.head) - 1
    t_conv, s_conv = target.head[index], source.head[index]
    assert isinstance(t_conv, nn.Conv2d) and isinstance(s_conv, nn.Conv2d)
    t_half, s_half = target.channels, source.channels
    for param in ("weight", "bias"):
        t_param, s_param = getattr(t_conv, param), getattr(s_conv, param)
        if t_param is None or s_param is None:
            continue
        out_dim = 0 if param == "weight" else None
        copied = 0
        for t_part, s_part in (
            (t_param[:t_half], s_param[:s_half]),
            (t_param[t_half:], s_param[s_half:]),
        ):
            _, n = copy_overlap(t_part, s_part, out_dim=out_dim, kernel_dims=(2, 3))
            copied += n
        recorder.record(f"{name}.{index}.{param}", kind_of(t_param.shape, s_param.shape), copied)
