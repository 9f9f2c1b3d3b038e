from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from codec import CodecArchitecture, build_codec
from codec.architecture import StageSpec

from .helpers import PICO_STYLE

BASE = CodecArchitecture(8, 12, 2, "conv", "relu", hyperprior=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("channels", 0),
        ("latent_channels", -3),
        ("stages", 1),
        ("stages", 6),
        ("block", "transformer"),
        ("activation", "tanh"),
        ("hyperprior", 1),
        ("blocks_per_stage", -1),
        ("expansion", 0),
        ("kernel_size", 4),
        ("hyper_channels", 0),
        ("channels", 8.0),
        ("channels", True),
        ("resampling", "bilinear"),
        ("entropy_model", "transformer"),
        ("context_grid", "3x3"),
        ("channel_groups", 0),
        ("rate_points", 0),
        ("rate_points", 17),
        ("tile_margin", -1),
        ("tile_size", 8),
        ("learned_width", 1),
    ],
)
def test_validate_names_bad_field_and_value(field: str, value: object) -> None:
    arch = replace(BASE, **{field: value})
    with pytest.raises(ValueError, match=rf"{field}={value!r}"):
        arch.validate()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"entropy_model": "factorized"}, "hyperprior=True contradicts entropy_model='factorized'"),
        ({"channel_groups": 2}, "channel_groups=2 needs a mean-scale or context model"),
        ({"learned_width": True}, "learned_width=True needs a mean-scale or context model"),
        (
            {"entropy_model": "context", "channel_groups": 5},
            "channel_groups=5 must divide latent_channels=12",
        ),
        ({"encoder_stages": (StageSpec(8, 1),) * 2}, "encoder_stages needs one StageSpec per"),
        ({"decoder_stages": (StageSpec(8, -1),)}, r"decoder_stages\[0\].repeats=-1"),
        ({"encoder_stages": (StageSpec(8, 1, 2, 4),)}, r"encoder_stages\[0\].kernel_size=4"),
    ],
)
def test_validate_rejects_inconsistent_fields(changes: dict, message: str) -> None:
    arch = replace(BASE, **changes)
    with pytest.raises(ValueError, match=message):
        arch.validate()


def test_pico_fields_round_trip_through_json() -> None:
    doc = json.loads(json.dumps(PICO_STYLE.to_dict()))
    assert CodecArchitecture.from_dict(doc) == PICO_STYLE
    assert PICO_STYLE.analysis_stages[1] == StageSpec(12, 1, 2, 5)
    assert PICO_STYLE.tile_core == 504 and PICO_STYLE.spatial_passes == 2
    # Without per-level specs every level gets the uniform one.
    assert BASE.analysis_stages == (StageSpec(8, 1, 4, 3),)
    assert BASE.effective_entropy_model == "scale_hyperprior"


def test_build_rejects_invalid_architecture() -> None:
    with pytest.raises(ValueError, match="stages=7"):
        build_codec(CodecArchitecture(8, 12, 7, "conv", "relu", hyperprior=False))


def test_dict_round_trip_and_unknown_keys() -> None:
    assert CodecArchitecture.from_dict(BASE.to_dict()) == BASE
    with pytest.raises(ValueError, match="width"):
        CodecArchitecture.from_dict({**BASE.to_dict(), "width": 3})


@pytest.mark.parametrize(
    ("stages", "hyperprior", "multiple"),
    [(2, False, 4), (2, True, 16), (4, True, 64), (5, False, 32)],
)
def test_size_multiple_and_latent_shapes(stages: int, hyperprior: bool, multiple: int) -> None:
    arch = CodecArchitecture(4, 6, stages, "residual", "relu", hyperprior, hyper_channels=5)
    model = build_codec(arch).eval()
    assert model.size_multiple == multiple
    x = torch.rand(1, 3, multiple * 2, multiple)
    out = model(x)
    assert out.x_hat.shape == x.shape
    assert out.likelihoods["y"].shape == (1, 6, 2 * multiple >> stages, multiple >> stages)
    if hyperprior:
        assert out.likelihoods["z"].shape == (
            1,
            5,
            2 * multiple >> (stages + 2),
            multiple >> (stages + 2),
        )
    with pytest.raises(ValueError, match=f"multiples of {multiple}"):
        model(torch.rand(1, 3, multiple + 1, multiple))


def test_model_id_must_be_16_bytes() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        build_codec(BASE, model_id=b"short")
