"""Training devices on a machine without a GPU: names resolve, "auto" is the CPU, the same
seed trains the same weights either way, and no tensor of the codec stays behind when it moves."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from codec.devices import DEVICE_NAMES, autocast_for, resolve_device
from codec.model import LearnedCodec
from codec.training import TrainingConfig, TrainingProgress, train
from search_spaces import get_space
from search_spaces.pico import PICO_LIKE_CONFIG
from tests.codec_train.models import photo_crops

IMAGES = photo_crops()[:1]


def _small_pico(**overrides: Any) -> dict[str, Any]:
    """A three-level pico config with GDN and Haar resampling, a few thousand MACs/px."""
    config: dict[str, Any] = {**PICO_LIKE_CONFIG, "stages": 3}
    for side in ("enc", "dec"):
        for level, channels in enumerate((16, 24, 32), start=1):
            config.update({f"{side}_c{level}": channels, f"{side}_r{level}": 1})
            config.update({f"{side}_e{level}": 1, f"{side}_f{level}": 3})
    config.update(
        activation="gdn",
        resampling="haar",
        latent_channels=64,
        hyper_channels=32,
        channel_groups=1,
    )
    config.update(overrides)
    return config


def _build(seed: int = 0, **overrides: Any) -> LearnedCodec:
    torch.manual_seed(seed)
    return get_space("pico").build(_small_pico(**overrides))


def _no_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("codec.devices._mps_available", lambda: False)


# ---- device selection -----------------------------------------------------------------------


def test_cpu_resolves_to_the_cpu() -> None:
    assert resolve_device("cpu") == torch.device("cpu")


def test_auto_is_the_cpu_where_torch_sees_no_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_accelerator(monkeypatch)
    assert resolve_device("auto") == torch.device("cpu")


def test_auto_is_the_cpu_on_this_machine() -> None:
    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this machine has an accelerator")
    assert resolve_device("auto") == torch.device("cpu")


@pytest.mark.parametrize("name", ["cuda", "mps"])
def test_an_absent_accelerator_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    _no_accelerator(monkeypatch)
    with pytest.raises(ValueError, match=f"'{name}'.*no {name.upper()} device"):
        resolve_device(name)
    # training asks for it before the first step
    with pytest.raises(ValueError, match=f"'{name}'"):
        train(_build(), IMAGES, TrainingConfig(1, 1, 32, 1e-3, 0.01, device=name))


@pytest.mark.parametrize("name", ["tpu", "CUDA", "gpu", ""])
def test_an_unknown_device_name_is_an_error(name: str) -> None:
    with pytest.raises(ValueError, match=f"must be one of .*got {name!r}"):
        resolve_device(name)
    with pytest.raises(ValueError, match=f"got {name!r}"):
        TrainingConfig(1, 1, 32, 1e-3, 0.01, device=name)


def test_the_spec_offers_the_codecs_device_names() -> None:
    from typing import get_args

    from nas.spec import DeviceName

    assert get_args(DeviceName) == DEVICE_NAMES


def test_autocast_is_a_no_op_off_cuda() -> None:
    x = torch.rand(2, 3)
    for enabled in (True, False):
        with autocast_for(torch.device("cpu"), enabled):
            assert not torch.is_autocast_enabled("cpu")
            assert (x @ x.T).dtype == torch.float32


# ---- the same training on either name -------------------------------------------------------


def _train_two_steps(**config: Any) -> tuple[list[float], dict[str, torch.Tensor], LearnedCodec]:
    model = _build(seed=3)
    losses: list[float] = []
    settings: dict[str, Any] = {
        "steps": 2,
        "batch_size": 2,
        "crop_size": 32,
        "learning_rate": 1e-3,
        "lmbda": 0.01,
        "seed": 7,
        "log_every": 1,
        "warmup_steps": 1,
    }
    settings.update(config)

    def record(p: TrainingProgress) -> None:
        losses.append(p.loss)

    train(model, IMAGES, TrainingConfig(**settings), on_progress=record)
    return losses, {k: v.clone() for k, v in model.state_dict().items()}, model


def test_auto_trains_the_same_weights_as_cpu_here() -> None:
    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this machine has an accelerator: 'auto' is not the CPU")
    cpu_losses, cpu_weights, _ = _train_two_steps(device="cpu", mixed_precision=False)
    auto_losses, auto_weights, model = _train_two_steps(device="auto", mixed_precision=True)

    assert len(cpu_losses) == 2 and cpu_losses == auto_losses
    assert cpu_weights.keys() == auto_weights.keys()
    for name, value in cpu_weights.items():
        assert torch.equal(value, auto_weights[name]), name
    # handed back on the CPU, in the default memory format, ready to code
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert all(p.is_contiguous() for p in model.parameters())
    x = torch.rand(1, 3, 32, 32)
    assert model.decompress(model.compress(x)).shape == x.shape


def test_mixed_precision_changes_nothing_on_the_cpu() -> None:
    plain_losses, plain_weights, _ = _train_two_steps(device="cpu", mixed_precision=False)
    mixed_losses, mixed_weights, _ = _train_two_steps(device="cpu", mixed_precision=True)
    assert plain_losses == mixed_losses
    for name, value in plain_weights.items():
        assert torch.equal(value, mixed_weights[name]), name


# ---- no tensor stays behind -----------------------------------------------------------------
#
# The check moves the model to the 'meta' device and runs a training pass there. Two things
# about meta tensors shape it:
# - torch.autocast("meta", enabled=False), which codec/model.py and codec/gdn.py enter with the
#   input's device type, raises "unsupported scalarType": the test swaps in a null context for
#   the meta device type only (autocast disabled is a no-op anyway).
# - meta kernels do not all check devices: `meta @ cpu` and conv2d(meta, cpu weight) return
#   meta tensors without an error, so a CPU constant would slip through a plain forward. A
#   dispatch mode therefore looks at every aten call and records those that mix meta tensors
#   with CPU tensors of one element or more dimensions (0-dim CPU tensors are scalars, which
#   CUDA kernels accept too).
# - a meta tensor has no value: `bool(t.all())` (the variable-rate gains check their positions)
#   cannot be read; the dispatch mode answers True for such bool reads.


class _DeviceMixes(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.mixes: list[str] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func is torch.ops.aten._local_scalar_dense.default and args[0].is_meta:
            # A meta tensor has no value to read: the variable-rate range check reads a bool.
            assert args[0].dtype == torch.bool, f"reads a {args[0].dtype} value: emulate it"
            return True
        tensors = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        devices = {t.device.type for t in tensors if t.dim() > 0}
        if {"meta", "cpu"} <= devices:
            self.mixes.append(str(func))
        return func(*args, **kwargs)


@pytest.fixture
def meta_autocast(monkeypatch: pytest.MonkeyPatch) -> None:
    real = torch.autocast

    def autocast(device_type: str, *args: Any, **kwargs: Any) -> Any:
        if device_type == "meta":
            assert kwargs.get("enabled", True) is False, "only disabled autocast is emulated"
            return contextlib.nullcontext()
        return real(device_type, *args, **kwargs)

    monkeypatch.setattr(torch, "autocast", autocast)


def _mixes_in_a_training_pass(model: nn.Module, rate: float | None = None) -> list[str]:
    model.train().to("meta")
    x = torch.rand(2, 3, 64, 64, device="meta")
    with _DeviceMixes() as mode:
        out = model(x) if rate is None else model(x, rate=rate)
        loss = model.rate_bits(out) / x[0].numel() + torch.mean((out.x_hat - x) ** 2)  # type: ignore[operator]
        loss.backward()
    assert out.x_hat.device.type == "meta" and out.x_hat.shape == x.shape
    return mode.mixes


@pytest.mark.usefixtures("meta_autocast")
@pytest.mark.parametrize(
    "overrides",
    [
        {},  # GDN, Haar, checkerboard context model with learned width
        {"activation": "simplified_gdn", "variable_rate": True},
        {"block": "inverted_residual", "entropy_model": "mean_scale_hyperprior"},
    ],
)
def test_no_codec_tensor_stays_on_the_cpu_when_the_model_moves(overrides: dict[str, Any]) -> None:
    model = _build(**overrides)
    rate = 1.5 if overrides.get("variable_rate") else None
    assert _mixes_in_a_training_pass(model, rate) == []


def test_the_meta_check_catches_a_cpu_constant_that_meta_kernels_let_through() -> None:
    class Leaky(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)
            self.mix = torch.eye(3).view(3, 3, 1, 1)  # a plain attribute: .to() leaves it behind

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return nn.functional.conv2d(self.conv(x), self.mix)

    model = Leaky().to("meta")
    x = torch.rand(1, 3, 8, 8, device="meta")
    assert model(x).is_meta  # meta alone does not see the CPU weight
    with _DeviceMixes() as mode:
        model(x)
    assert mode.mixes == ["aten.convolution.default"]
