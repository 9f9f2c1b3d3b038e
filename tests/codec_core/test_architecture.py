from __future__ import annotations

import pytest
import torch

from codec import CodecArchitecture, build_codec

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
    ],
)
def test_validate_names_bad_field_and_value(field: str, value: object) -> None:
    arch = CodecArchitecture(**{**BASE.to_dict(), field: value})
    with pytest.raises(ValueError, match=rf"{field}={value!r}"):
        arch.validate()


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
