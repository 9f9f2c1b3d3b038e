"""Inheritance: a new codec starts from the trained codec of a nearby config."""

from __future__ import annotations

import json

import pytest
import torch

from codec.images import load_images
from codec.model import LearnedCodec
from codec.training import TrainingConfig, train
from search_spaces.inheritance import inherit_weights
from search_spaces.inheritance.structure import levels
from search_spaces.pico import PICO_SPACE

SMALL = {
    "stages": 3,
    **{
        f"{side}_{knob}{level}": value
        for side in ("enc", "dec")
        for level, channels in ((1, 24), (2, 32), (3, 32))
        for knob, value in (("c", channels), ("r", 1), ("e", 2), ("f", 3))
    },
    "block": "convscale",
    "activation": "gdn",
    "resampling": "haar",
    "latent_channels": 64,
    "hyper_channels": 32,
    "entropy_model": "context",
    "context_grid": "checkerboard",
    "channel_groups": 1,
    "learned_width": True,
    "variable_rate": True,
    "tile_size": 512,
    "tile_margin": 4,
}


def trained_like(config: dict, seed: int = 0) -> LearnedCodec:
    """A codec whose weights are not at their initial values (as after training)."""
    torch.manual_seed(seed)
    model = PICO_SPACE.build(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    return model.eval()


def outputs(model: LearnedCodec) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model(x, rate=2.5)
    return out.x_hat, out.likelihoods["y"], out.likelihoods["z"]


def inherited(config: dict, source: LearnedCodec):
    torch.manual_seed(123)
    target = PICO_SPACE.build(config)
    report = inherit_weights(target, source)
    return target.eval(), report


def test_the_same_config_inherits_everything_and_computes_the_same_outputs():
    source = trained_like(SMALL)
    target, report = inherited(SMALL, source)
    for a, b in zip(outputs(source), outputs(target), strict=True):
        assert torch.equal(a, b)
    assert report.fraction == 1.0
    assert report.names("exact") == [name for name, _ in target.named_parameters()]
    assert report.summary() == {
        "exact": len(report.kinds),
        "sliced": 0,
        "grown": 0,
        "fresh": 0,
        "identity_blocks": 0,
        "fraction": 1.0,
    }


GROWTHS = [
    {"dec_r1": 3, "dec_r2": 2},  # more decoder blocks (ConvScale: project scale 0)
    {"dec_r1": 2, "block": "residual"},  # more residual blocks (last conv zero)
    {"dec_r1": 2, "block": "inverted_residual"},
    {"dec_c1": 32, "dec_c2": 48},  # more channels: new inputs get zero weights, GDN no coupling
    {"enc_c1": 32, "enc_c2": 48, "enc_r2": 2},
    {"dec_e1": 4, "dec_f2": 5},  # wider expansion, larger kernel (centred, zero ring)
    {"latent_channels": 96, "hyper_channels": 48},
    {"resampling": "conv", "dec_r3": 2, "dec_c1": 32},
]


def _label(change: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in change.items())


@pytest.mark.parametrize("change", GROWTHS, ids=_label)
def test_growing_a_config_preserves_the_function(change):
    base = dict(SMALL, **{k: v for k, v in change.items() if k in ("block", "resampling")})
    source = trained_like(base)
    target, report = inherited(dict(base, **change), source)
    for a, b in zip(outputs(source), outputs(target), strict=True):
        # New latent channels have likelihoods of their own; the old ones keep theirs.
        torch.testing.assert_close(b[:, : a.shape[1]], a, atol=1e-5, rtol=1e-5)
    assert report.names("grown") or report.identity_blocks
    assert 0.3 < report.fraction < 1.0


@pytest.mark.parametrize(
    ("before", "after"), [("haar", "pixel_shuffle"), ("pixel_shuffle", "haar")]
)
def test_haar_and_pixel_shuffle_convert_exactly(before, after):
    # Both are 2x2 stride-2 kernels, the Haar one in an orthonormal basis that is its own inverse.
    source = trained_like(dict(SMALL, resampling=before))
    target, report = inherited(dict(SMALL, resampling=after), source)
    for a, b in zip(outputs(source), outputs(target), strict=True):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)
    assert report.fraction == 1.0


@pytest.mark.parametrize("before", ["haar", "pixel_shuffle"])
def test_1x1_down_sampling_becomes_a_strided_conv_with_the_same_function(before):
    # A 2x2 kernel sits inside a 5x5 stride-2 one. Up-sampling 1x1 layers have a bias per output
    # position, which a transposed conv cannot hold: the synthesis changes, the analysis not.
    source = trained_like(dict(SMALL, resampling=before))
    target, report = inherited(dict(SMALL, resampling="conv"), source)
    (_, y_a, z_a), (_, y_b, z_b) = outputs(source), outputs(target)
    torch.testing.assert_close(y_b, y_a, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(z_b, z_a, atol=1e-5, rtol=1e-5)
    up_layers = [f"g_s.{level.resampling[0]}.bias" for level in levels(target.g_s)]
    assert set(up_layers) <= set(report.names("sliced"))
    assert not report.names("fresh")


def test_a_strided_conv_gives_a_1x1_resampling_its_central_taps():
    source = trained_like(dict(SMALL, resampling="conv"))
    target, report = inherited(dict(SMALL, resampling="pixel_shuffle"), source)
    t_index, t_layer = levels(target.g_a)[0].resampling
    s_layer = levels(source.g_a)[0].resampling[1]
    expected = s_layer.weight[:, :, 2:4, 2:4].reshape(t_layer.conv.weight.shape)
    assert torch.equal(t_layer.conv.weight, expected)
    assert f"g_a.{t_index}.conv.weight" in report.names("sliced")


def test_new_residual_blocks_are_named_as_identity_blocks():
    source = trained_like(SMALL)
    _, report = inherited(dict(SMALL, dec_r1=3), source)
    assert len(report.identity_blocks) == 2
    assert all(name.startswith("g_s.") for name in report.identity_blocks)
    fresh = report.names("fresh")
    assert fresh
    assert all(any(name.startswith(b + ".") for b in report.identity_blocks) for name in fresh)


def test_shrinking_copies_the_leading_slice():
    source = trained_like(dict(SMALL, enc_c2=48, enc_f1=5))
    target, report = inherited(dict(SMALL, enc_c2=32, enc_f1=3), source)
    t_levels, s_levels = levels(target.g_a), levels(source.g_a)
    # Level 2's resampling: 32 of 48 outputs, from level 1's 24 channels (x4 Haar bands).
    t_index, t_layer = t_levels[1].resampling
    s_layer = s_levels[1].resampling[1]
    assert torch.equal(t_layer.conv.weight, s_layer.conv.weight[:32])
    assert f"g_a.{t_index}.conv.weight" in report.names("sliced")
    # Level 1's block: a 5x5 depthwise kernel cut to its centre 3x3.
    t_block, s_block = t_levels[0].blocks[0][1], s_levels[0].blocks[0][1]
    centre = s_block.depthwise.conv.weight[:, :, 1:4, 1:4]
    assert torch.equal(t_block.depthwise.conv.weight, centre)
    assert not report.names("grown")


def test_the_report_counts_every_parameter_once_and_serialises():
    source = trained_like(SMALL)
    target, report = inherited(dict(SMALL, block="residual", dec_c1=32, dec_r1=2), source)
    names = [name for name, _ in target.named_parameters()]
    assert sorted(report.kinds) == sorted(names)
    total = sum(p.numel() for p in target.parameters())
    assert report.total_elements == total
    assert 0 < report.inherited_elements < total
    # Residual blocks cannot take ConvScale blocks' weights: they stay fresh (or the identity).
    fresh = set(report.names("fresh"))
    for side in ("g_a", "g_s"):
        for level in levels(getattr(target, side)):
            for index, _ in level.blocks:
                assert f"{side}.{index}.conv1.weight" in fresh
    doc = json.loads(json.dumps(report.to_json()))
    assert doc["fraction"] == pytest.approx(report.fraction, abs=1e-6)
    assert sum(doc[k] for k in ("exact", "sliced", "grown", "fresh")) == len(names)
    assert doc["identity_blocks"] == len(report.identity_blocks) > 0


def test_a_codec_inherited_from_another_still_trains_and_codes():
    source = trained_like(SMALL)
    target, _ = inherited(dict(SMALL, dec_c1=32, dec_r1=2, latent_channels=96), source)
    images = load_images("skimage:coffee")
    config = TrainingConfig(steps=3, batch_size=2, crop_size=32, learning_rate=1e-3, lmbda=0.01)
    report = train(target, images, config)
    assert report.final_loss == report.final_loss  # finite, not NaN
    target.prepare_for_coding()
    x = torch.rand(1, 3, 40, 56)
    decoded = target.decompress(target.compress(x, rate=1.0))
    assert decoded.shape == x.shape
