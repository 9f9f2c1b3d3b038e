"""ConvScale and Haar fold into plain layers with the same output."""

from __future__ import annotations

import torch
from torch import nn

from codec.blocks import InvertedResidualBlock
from codec.convscale import ConvScale
from codec.folding import FOLDABLE, fold_for_inference
from codec.resampling import ConvShuffle, HaarDown, HaarUp, UnshuffleConv
from codec.transforms import analysis_transform, synthesis_transform

from .helpers import photo, pico_variant


def _randomise_scales(module: nn.Module) -> None:
    # Scales start at 1 (or 0.1): make them unequal so folding has something to get wrong.
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, ConvScale):
                layer.scale.copy_(0.2 + 2 * torch.rand(layer.scale.shape, generator=generator))


def test_convscale_folds_into_one_conv() -> None:
    torch.manual_seed(0)
    layer = ConvScale(6, 10, 3)
    _randomise_scales(layer)
    folded = layer.fold()
    assert type(folded) is nn.Conv2d
    x = torch.randn(2, 6, 9, 11)
    with torch.no_grad():
        assert torch.allclose(folded(x), layer(x), atol=1e-5)
    assert not torch.allclose(folded.weight, layer.conv.weight), "fold must change the weights"


def test_convscale_block_folds_to_the_plain_block() -> None:
    torch.manual_seed(1)
    block = InvertedResidualBlock(8, 5, 3, "silu", scaled=True)
    _randomise_scales(block)
    folded = fold_for_inference(block)
    assert not any(isinstance(m, ConvScale) for m in folded.modules())
    assert all(isinstance(m, ConvScale) for m in (block.expand, block.depthwise, block.project))
    x = torch.randn(1, 8, 12, 12)
    with torch.no_grad():
        assert torch.allclose(folded(x), block(x), atol=1e-5)


def test_haar_resampling_folds_to_pixel_shuffle() -> None:
    torch.manual_seed(2)
    down, up = HaarDown(5, 7), HaarUp(7, 5)
    x = torch.randn(1, 5, 8, 12)
    with torch.no_grad():
        folded_down, folded_up = down.fold(), up.fold()
        assert type(folded_down) is UnshuffleConv and type(folded_up) is ConvShuffle
        h = down(x)
        assert h.shape == (1, 7, 4, 6)
        assert torch.allclose(folded_down(x), h, atol=1e-5)
        assert torch.allclose(folded_up(h), up(h), atol=1e-5)
        assert up(h).shape == x.shape


def test_haar_is_an_orthonormal_wavelet() -> None:
    # With identity 1x1 weights, Haar analysis then synthesis gives the input back, and a
    # constant image has energy in the LL band only.
    channels = 3
    down, up = HaarDown(channels, 4 * channels), HaarUp(4 * channels, channels)
    with torch.no_grad():
        for layer in (down, up):
            layer.conv.weight.copy_(torch.eye(4 * channels).view(4 * channels, -1, 1, 1))
            layer.conv.bias.zero_()
        x = torch.randn(1, channels, 6, 10)
        assert torch.allclose(up(down(x)), x, atol=1e-5)
        bands = down(torch.ones(1, channels, 4, 4)).view(1, channels, 4, 2, 2)
        assert torch.allclose(bands[:, :, 0], torch.full_like(bands[:, :, 0], 2.0))
        assert float(bands[:, :, 1:].abs().max()) < 1e-6


def test_whole_transforms_fold_with_the_same_output() -> None:
    torch.manual_seed(3)
    arch = pico_variant()
    analysis, synthesis = analysis_transform(arch), synthesis_transform(arch)
    _randomise_scales(analysis)
    _randomise_scales(synthesis)
    x = photo(32, 48)
    with torch.no_grad():
        y = analysis(x)
        folded_a, folded_s = fold_for_inference(analysis), fold_for_inference(synthesis)
        assert torch.allclose(folded_a(x), y, atol=1e-4)
        assert torch.allclose(folded_s(y), synthesis(y), atol=1e-4)
    for folded in (folded_a, folded_s):
        assert not any(isinstance(m, FOLDABLE) for m in folded.modules())
    # The trained model keeps its own layers for further training.
    assert any(isinstance(m, ConvScale) for m in analysis.modules())


def test_nothing_to_fold_returns_the_module_itself() -> None:
    plain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    assert fold_for_inference(plain) is plain
