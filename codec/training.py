"""Rate–distortion training of a learned codec on random crops.

Loss: bpp + lmbda * (weighted distortion terms), codec/losses.py. With the default weights it is
CompressAI's bpp + lmbda * 255**2 * MSE, MSE measured on [0, 1] pixels, so the usual lambdas
(0.0018 .. 0.0483) carry over. A text weight draws text on a fraction of the crops
(codec/text_render.py); a tiling weight trains on the 2x2 tile layout of each crop. A
variable-rate model trains every rate point, one random position per step, lmbda being the
centre of its lambda grid.

The caller owns torch's thread count; this module never changes it. The global RNG (used by the
model's quantisation noise) is seeded from the config inside a forked RNG state, so training is
reproducible without disturbing the caller's random stream.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from codec.devices import autocast_for, check_device_name, resolve_device
from codec.images import NamedImage, RandomCrops
from codec.losses import (
    DEFAULT_TILE_MARGIN,
    LossTerms,
    LossWeights,
    TileLayout,
    rate_distortion_loss,
)
from codec.metrics import psnr_from_mse
from codec.text_render import TextRenderer
from codec.training_records import (
    LossWindow,
    TrainingDiverged,
    TrainingProgress,
    TrainingReport,
)
from codec.variable_rate import RateSampler

if TYPE_CHECKING:
    from codec.model import LearnedCodec

__all__ = [
    "TrainingConfig",
    "TrainingDiverged",
    "TrainingProgress",
    "TrainingReport",
    "train",
]

DEFAULT_TEXT_FRACTION = 0.5  # of the crops carry text when the text loss is on


@dataclass(frozen=True)
class TrainingConfig:
    steps: int
    batch_size: int
    crop_size: int
    learning_rate: float
    lmbda: float
    seed: int = 0
    loss: LossWeights = field(default_factory=LossWeights)
    # fraction of the crops that get rendered text; None: DEFAULT_TEXT_FRACTION with a text
    # loss, else 0. Set it without a text loss to train a baseline on the same data.
    text_fraction: float | None = None
    tile_margin: int = DEFAULT_TILE_MARGIN  # context of the tiles a tiling loss trains on
    lr_decay_at: float | None = 0.8  # fraction of the steps after which the rate is decayed once
    lr_decay_factor: float = 0.1
    # Steps over which the learning rate ramps up linearly from 0. Adam's first steps move every
    # weight by about the full rate at once, which blows up GDN stacks (IGDN grows as x^2):
    # x_hat reached 1e8 in two steps at 1e-3 without a warm-up.
    warmup_steps: int = 0
    grad_clip: float | None = 1.0  # max gradient norm; None: no clipping
    log_every: int = 100  # steps between progress reports
    # Wall-clock budget: training stops after the step that exceeds it (steps is then a cap),
    # and the learning-rate decay comes at lr_decay_at of the budget if that is earlier than
    # lr_decay_at of the steps. None: run all the steps.
    max_seconds: float | None = None
    # Where the steps run: "auto" takes CUDA, then MPS, then the CPU (codec/devices.py). The
    # trained model comes back on the CPU, where the entropy coder runs.
    device: str = "cpu"
    # bfloat16 autocast on an accelerator (entropy models and GDN stay float32); no effect on
    # the CPU, where it is slower.
    mixed_precision: bool = True

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "crop_size", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainingConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("learning_rate", "lmbda"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"TrainingConfig.{name} must be finite and > 0, got {value}")
        if not isinstance(self.loss, LossWeights):
            raise ValueError(f"TrainingConfig.loss must be LossWeights, got {self.loss!r}")
        if self.text_fraction is not None and not 0.0 <= self.text_fraction <= 1.0:
            raise ValueError(
                f"TrainingConfig.text_fraction must be in [0, 1], got {self.text_fraction}"
            )
        if self.tile_margin < 0:
            raise ValueError(f"TrainingConfig.tile_margin must be >= 0, got {self.tile_margin}")
        if self.warmup_steps < 0:
            raise ValueError(f"TrainingConfig.warmup_steps must be >= 0, got {self.warmup_steps}")
        if self.lr_decay_at is not None and not 0.0 < self.lr_decay_at <= 1.0:
            raise ValueError(
                f"TrainingConfig.lr_decay_at must be in (0, 1], got {self.lr_decay_at}"
            )
        if not 0.0 < self.lr_decay_factor <= 1.0:
            raise ValueError(
                f"TrainingConfig.lr_decay_factor must be in (0, 1], got {self.lr_decay_factor}"
            )
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"TrainingConfig.grad_clip must be > 0 or None, got {self.grad_clip}")
        check_device_name(self.device)
        if self.max_seconds is not None and not (
            math.isfinite(self.max_seconds) and self.max_seconds > 0
        ):
            raise ValueError(
                f"TrainingConfig.max_seconds must be finite and > 0 or None, got {self.max_seconds}"
            )

    @property
    def effective_text_fraction(self) -> float:
        if self.text_fraction is not None:
            return self.text_fraction
        return DEFAULT_TEXT_FRACTION if self.loss.text > 0 else 0.0


def _check_inputs(
    model: LearnedCodec, images: Sequence[NamedImage], config: TrainingConfig
) -> TileLayout | None:
    """Raise ValueError on unusable inputs; the tile layout a tiling loss trains on, if any."""
    if not images:
        raise ValueError("train() needs at least one image, got none")
    multiple = int(model.size_multiple)
    if config.crop_size % multiple:
        raise ValueError(
            f"crop_size {config.crop_size} is not a multiple of the model's "
            f"size_multiple {multiple}"
        )
    if not config.loss.tiling:
        return None
    tile = config.crop_size // 2
    if config.crop_size % 2 or tile % multiple:
        raise ValueError(
            f"a tiling loss trains on 2x2 tiles of crop_size/2: crop_size {config.crop_size} "
            f"must be a multiple of 2 * size_multiple = {2 * multiple}"
        )
    return TileLayout(tile, config.tile_margin)


def _step_loss(
    model: LearnedCodec,
    config: TrainingConfig,
    x: torch.Tensor,
    text_mask: torch.Tensor | None,
    layout: TileLayout | None,
    rate: tuple[float | None, float],
) -> LossTerms:
    """Forward on the crops (or on their tiles) and the weighted rate–distortion loss."""
    coded = layout.split(x) if layout is not None else x
    position, lmbda = rate
    out = model(coded) if position is None else model(coded, rate=position)  # type: ignore[call-arg,unused-ignore]
    bpp = model.rate_bits(out) / (coded.shape[0] * coded.shape[2] * coded.shape[3])
    x_hat = out.x_hat
    if layout is not None:
        x, x_hat = layout.canvas(x), layout.assemble(x_hat)
        text_mask = layout.canvas(text_mask) if text_mask is not None else None
    return rate_distortion_loss(config.loss, lmbda, bpp, x, x_hat, text_mask, layout)


def _gradient_norm(model: torch.nn.Module, grad_clip: float | None) -> float:
    parameters = [p for p in model.parameters() if p.grad is not None]
    if not parameters:
        return 0.0
    limit = grad_clip if grad_clip is not None else math.inf
    return float(torch.nn.utils.clip_grad_norm_(parameters, limit))


def train(
    model: LearnedCodec,
    images: Sequence[NamedImage],
    config: TrainingConfig,
    on_progress: Callable[[TrainingProgress], None] | None = None,
) -> TrainingReport:
    """Train `model` in place with Adam, then put it in eval mode and prepare it for coding.

    `on_progress` gets means every `log_every` steps and at the last step; an exception it raises
    stops training and propagates (a caller's way to cancel or enforce a time budget).
    Raises `TrainingDiverged` when the loss, the gradient norm or a parameter stops being finite.
    """
    layout = _check_inputs(model, images, config)
    device = resolve_device(config.device)
    model.to(device)
    if device.type != "cpu":
        _set_memory_format(model, torch.channels_last)  # NHWC: what cuDNN's fast convs want
    crops = RandomCrops(images, config.crop_size, seed=config.seed)
    text_fraction = config.effective_text_fraction
    text = TextRenderer(seed=config.seed) if text_fraction > 0 else None
    rates = RateSampler(model, config.lmbda)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    history: list[tuple[float, float, float]] = []  # (loss, bpp, mse) of every step
    since_log = LossWindow()
    decayed = False
    started = time.perf_counter()
    model.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        for step in range(1, config.steps + 1):
            elapsed = time.perf_counter() - started
            if not decayed and _decay_due(config, step, elapsed):
                decayed = True
            if step <= config.warmup_steps + 1 or decayed:
                rate = config.learning_rate * min(1.0, step / (config.warmup_steps + 1))
                for group in optimizer.param_groups:
                    group["lr"] = rate * (config.lr_decay_factor if decayed else 1.0)
            x = crops.next_batch(config.batch_size)
            text_mask = None
            if text is not None:
                x, text_mask = text.overlay_batch(x, text_fraction)
                text_mask = text_mask.to(device)
            x = _to_device(x, device)
            with autocast_for(device, config.mixed_precision):
                terms = _step_loss(model, config, x, text_mask, layout, rates.next())
            loss, bpp, mse = terms.loss, terms.bpp, terms.mse
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise TrainingDiverged(step, loss_value, f"bpp {bpp.item()}, mse {mse.item()}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norm = _gradient_norm(model, config.grad_clip)
            if not math.isfinite(norm):
                raise TrainingDiverged(step, loss_value, f"gradient norm {norm}")
            optimizer.step()

            values = (loss_value, bpp.item(), mse.item())
            history.append(values)
            since_log.add(*values)
            out_of_time = (
                config.max_seconds is not None
                and time.perf_counter() - started >= config.max_seconds
            )
            last_step = step == config.steps or out_of_time
            if on_progress is not None and (step % config.log_every == 0 or last_step):
                mean_loss, mean_bpp, mean_mse = since_log.means()
                on_progress(
                    TrainingProgress(
                        step,
                        config.steps,
                        mean_loss,
                        mean_bpp,
                        mean_mse,
                        psnr_from_mse(mean_mse),
                        optimizer.param_groups[0]["lr"],
                        time.perf_counter() - started,
                    )
                )
                since_log = LossWindow()
            if out_of_time:
                break
    model.to(torch.device("cpu"))
    _set_memory_format(model, torch.contiguous_format)
    return _finish(model, history, time.perf_counter() - started)


def _set_memory_format(model: torch.nn.Module, memory_format: torch.memory_format) -> None:
    # Module.to(memory_format=...) works at run time but is missing from torch's type stubs.
    model.to(memory_format=memory_format)  # type: ignore[call-overload]


def _to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    if device.type == "cpu":
        return x
    return x.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)


def _decay_due(config: TrainingConfig, step: int, elapsed: float) -> bool:
    """Whether the one learning-rate decay is due before this step (by steps or by time)."""
    if config.lr_decay_at is None:
        return False
    by_steps = step > round(config.lr_decay_at * config.steps)
    by_time = config.max_seconds is not None and elapsed >= config.lr_decay_at * config.max_seconds
    return by_steps or by_time


def _window(values: Sequence[tuple[float, float, float]]) -> LossWindow:
    window = LossWindow()
    for loss, bpp, mse in values:
        window.add(loss, bpp, mse)
    return window


def _finish(
    model: LearnedCodec, history: list[tuple[float, float, float]], seconds: float
) -> TrainingReport:
    """Check the parameters, prepare the model for coding, summarise the first and last tenth."""
    span = max(1, math.ceil(len(history) / 10))
    last = _window(history[-span:])
    # the last optimizer step is not followed by a forward pass that would catch it
    for name, parameter in model.named_parameters():
        if not torch.isfinite(parameter).all():
            raise TrainingDiverged(
                len(history),
                last.means()[0],
                f"parameter {name!r} is not finite after the last step",
            )
    model.eval()
    model.prepare_for_coding()
    final_loss, final_bpp, final_mse = last.means()
    return TrainingReport(
        final_loss,
        _window(history[:span]).means()[0],
        final_bpp,
        final_mse,
        psnr_from_mse(final_mse),
        len(history),
        seconds,
    )
