"""Every entropy model round-trips: factorized, scale, mean-scale, context (both grids),
with and without learned width and channel groups."""

from __future__ import annotations

import pytest
import torch

from codec import CodecArchitecture
from codec.latent_codecs import HyperLatentCodec

from .helpers import codec_with_spread_latents, photo, pico_variant

ENTROPY_MODELS = {
    "factorized": pico_variant(entropy_model="factorized"),
    "scale": pico_variant(entropy_model="scale_hyperprior"),
    "mean_scale": pico_variant(entropy_model="mean_scale_hyperprior"),
    "mean_scale_width_groups": pico_variant(
        entropy_model="mean_scale_hyperprior", learned_width=True, channel_groups=2
    ),
    "checkerboard": pico_variant(),
    "checkerboard_width": pico_variant(learned_width=True),
    "2x2_groups": pico_variant(context_grid="2x2", channel_groups=4),
    "2x2_width_groups_shuffle": pico_variant(
        context_grid="2x2", channel_groups=2, learned_width=True, resampling="pixel_shuffle"
    ),
    "checkerboard_conv_resampling": pico_variant(resampling="conv", block="inverted_residual"),
}


@pytest.mark.parametrize("arch", ENTROPY_MODELS.values(), ids=ENTROPY_MODELS.keys())
def test_symbols_and_image_round_trip(arch: CodecArchitecture) -> None:
    model = codec_with_spread_latents(arch)
    x = photo(37, 53)
    data = model.compress(x)
    assert model.compress(x) == data, "compress is not deterministic"
    expected = model.encode_latents(x)
    _, decoded = model.decode_latents(data)
    assert decoded.keys() == expected.keys()
    for name, symbols in expected.items():
        assert torch.equal(decoded[name], symbols), name
    assert len(torch.unique(expected["y"])) > 5, "symbols too flat to exercise the coder"

    # decompress() is the exported decoder graph's work, cropped and clamped.
    x_hat = model.decompress(data)
    assert x_hat.shape == x.shape and 0 <= float(x_hat.min()) <= float(x_hat.max()) <= 1
    graph_inputs = (decoded["y"],) if "z" not in decoded else (decoded["y"], decoded["z"])
    with torch.no_grad():
        outputs = model.decoder_graph()(*graph_inputs)
    graph_x = outputs[0] if isinstance(outputs, tuple) else outputs
    assert torch.equal(graph_x[:, :, :37, :53].clamp(0, 1), x_hat)


@pytest.mark.parametrize("arch", ENTROPY_MODELS.values(), ids=ENTROPY_MODELS.keys())
def test_real_bits_follow_the_eval_estimate(arch: CodecArchitecture) -> None:
    # Untrained models put some latents far in their tables' tails, where the estimate's
    # 1e-9 likelihood floor and the coder's escapes price them differently: hence 10%.
    model = codec_with_spread_latents(arch)
    x = photo(64, 64)
    real_bits = 8 * len(model.compress(x))
    with torch.no_grad():
        estimate = float(model.rate_bits(model(x)))
    assert abs(real_bits / estimate - 1) < 0.10, (real_bits, estimate)


@pytest.mark.parametrize(
    "arch",
    [ENTROPY_MODELS["checkerboard_width"], ENTROPY_MODELS["2x2_groups"]],
    ids=["checkerboard", "2x2"],
)
def test_decoder_rebuilds_the_encoders_latent_exactly(arch: CodecArchitecture) -> None:
    # The encoder quantizes each pass around means computed from the passes before it; if
    # any mean saw a position not yet decoded, the decoder's y_hat would drift from this one.
    model = codec_with_spread_latents(arch)
    latent = model.latent_codec
    assert isinstance(latent, HyperLatentCodec)
    with torch.no_grad():
        y = model.g_a(photo(64, 64))
        z_hat = torch.round(latent.h_a(y))
        residuals, encoder_y_hat = latent._run_context(y, z_hat, training=False)
        decoder_y_hat = latent.dequantize({"y": residuals, "z": z_hat})
    assert torch.equal(decoder_y_hat, encoder_y_hat)
    assert float((encoder_y_hat - y).abs().max()) < 10.0  # a quantizer, not noise


def test_context_and_width_get_gradients_in_training() -> None:
    model = codec_with_spread_latents(ENTROPY_MODELS["2x2_width_groups_shuffle"]).train()
    out = model(photo(32, 32))
    loss = model.rate_bits(out) + 1e3 * torch.mean((out.x_hat - photo(32, 32)) ** 2)
    loss.backward()
    latent = model.latent_codec
    assert isinstance(latent, HyperLatentCodec) and latent.context is not None
    for net in latent.context.groups:
        for name, parameter in net.named_parameters():
            assert parameter.grad is not None and float(parameter.grad.abs().sum()) > 0, name
    scale_decoder = model.h_s
    assert scale_decoder is not None
    log_steps = scale_decoder.log_steps
    assert log_steps.grad is not None and float(log_steps.grad.abs().sum()) > 0
