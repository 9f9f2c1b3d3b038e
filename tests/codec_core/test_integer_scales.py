"""Cross-backend determinism: the integer scale decoder gives the same tables in torch and in
ONNX Runtime, so a bitstream made on one decodes to the same symbols on the other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from PIL import Image

from codec import LearnedCodec, build_codec
from codec.entropy.integer_scales import requantizer

from .helpers import codec_with_spread_latents, pico_variant

KODAK = Path("/work/shared/data/kodak")
CROP = (64, 96)  # small crops keep 24 images x 4 codings to a few seconds

CONTEXT_MODEL = pico_variant(context_grid="2x2", channel_groups=2, learned_width=True)
SCALE_MODEL = pico_variant(entropy_model="scale_hyperprior", resampling="conv")


def _ort_runner(model: LearnedCodec, height: int, width: int) -> Callable:
    session = onnxruntime.InferenceSession(
        model.scale_decoder_onnx(height, width), providers=["CPUExecutionProvider"]
    )

    def run(z_hat: torch.Tensor) -> torch.Tensor:
        (indexes,) = session.run(None, {"z_hat": z_hat.numpy().astype(np.float32)})
        return torch.from_numpy(indexes)

    return run


@pytest.mark.parametrize("arch", [CONTEXT_MODEL, SCALE_MODEL], ids=["context", "scale"])
def test_onnx_integer_graph_equals_torch_on_any_z(arch: object) -> None:
    model = codec_with_spread_latents(arch)  # type: ignore[arg-type]
    runner = _ort_runner(model, 64, 96)
    generator = torch.Generator().manual_seed(0)
    # Beyond the int8 range too: both sides clip z_hat the same way.
    z_hat = torch.round(40 * torch.randn(1, 8, 2, 3, generator=generator))
    z_hat[0, 0, 0, 0] = 1e4
    torch_indexes = model.scale_decoder()(z_hat)
    onnx_indexes = runner(z_hat)
    assert onnx_indexes.dtype == torch.int64 and onnx_indexes.shape == (1, 16, 8, 12)
    assert torch.equal(onnx_indexes, torch_indexes)
    assert len(torch.unique(torch_indexes)) > 5, "indexes too flat to test anything"


def test_training_path_predicts_the_integer_indexes() -> None:
    # The quantization-aware float network differs from the integer one by float rounding
    # at the activations' rounding boundaries and by the integer bias and multipliers:
    # nearly every index agrees, and none is off by more than one level.
    torch.manual_seed(0)
    model = build_codec(CONTEXT_MODEL).eval()
    model.prepare_for_coding()
    z_hat = torch.round(5 * torch.randn(1, 8, 8, 8, generator=torch.Generator().manual_seed(1)))
    scale_decoder = model.h_s
    assert scale_decoder is not None
    with torch.no_grad():
        trained = scale_decoder(z_hat).to(torch.int64)
    difference = (trained - model.scale_decoder()(z_hat)).abs()
    assert float((difference == 0).float().mean()) > 0.99
    assert int(difference.max()) <= 1


def _kodak_crops() -> list[torch.Tensor]:
    if not KODAK.is_dir():
        pytest.skip(f"the Kodak images are not at {KODAK} (../shared/data/kodak)")
    crops = []
    for path in sorted(KODAK.glob("kodim*.png")):
        pixels = np.asarray(Image.open(path).convert("RGB"))
        top, left = (pixels.shape[0] - CROP[0]) // 2, (pixels.shape[1] - CROP[1]) // 2
        crop = pixels[top : top + CROP[0], left : left + CROP[1]]
        crops.append(torch.from_numpy(crop.copy()).permute(2, 0, 1).float().div(255).unsqueeze(0))
    return crops


def test_kodak_bitstreams_are_identical_across_torch_and_onnxruntime() -> None:
    crops = _kodak_crops()
    assert len(crops) == 24
    torch_model = codec_with_spread_latents(CONTEXT_MODEL, seed=5)
    ort_model = codec_with_spread_latents(CONTEXT_MODEL, seed=5)
    ort_model.scale_runner = _ort_runner(ort_model, *CROP)
    levels: set[int] = set()
    for crop in crops:
        from_torch = torch_model.compress(crop)
        from_ort = ort_model.compress(crop)
        # Same tables on both backends, hence the very same bytes.
        assert from_ort == from_torch
        symbols = torch_model.encode_latents(crop)
        # Encoded with torch, decoded with ONNX Runtime's scales; and the reverse.
        for decoder, data in ((ort_model, from_torch), (torch_model, from_ort)):
            _, decoded = decoder.decode_latents(data)
            for name in ("y", "z"):
                assert torch.equal(decoded[name], symbols[name]), name
        assert torch.equal(ort_model.decompress(from_torch), torch_model.decompress(from_ort))
        levels.update(torch_model.scale_decoder()(symbols["z"]).unique().tolist())
    assert len(levels) > 8, f"only table levels {sorted(levels)} used: test too weak"


def test_requantizer_approximates_the_scale_in_fixed_point() -> None:
    scale = torch.tensor([3e-6, 0.01, 0.7, 1.9], dtype=torch.float64)
    multiplier, shift = requantizer(scale)
    assert multiplier.dtype == torch.int64 and int(multiplier.max()) < 2**30
    assert torch.allclose(multiplier.double() / 2.0**shift, scale, rtol=1e-3)
    with pytest.raises(ValueError, match="finite and >= 0"):
        requantizer(torch.tensor([float("nan")]))
