"""Rate–distortion training of a learned codec on random crops.

Loss (CompressAI's convention): bpp + lmbda * 255**2 * MSE, MSE measured on [0, 1] pixels, so the
usual lambdas (0.0018 .. 0.0483) carry over. With distortion="ms_ssim" the loss is
bpp + lmbda * (1 - MS-SSIM), where CompressAI's MS-SSIM lambdas are 2.4 .. 220.

The caller owns torch's thread count; this module never changes it. The global RNG (used by the
model's quantisation noise) is seeded from the config inside a forked RNG state, so training is
reproducible without disturbing the caller's random stream.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from codec.images import NamedImage, RandomCrops
from codec.metrics import ms_ssim_tensor, psnr_from_mse

if TYPE_CHECKING:
    from codec.model import LearnedCodec

DISTORTIONS = ("mse", "ms_ssim")


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or infinite."""

    def __init__(self, step: int, loss: float, detail: str) -> None:
        super().__init__(f"training diverged at step {step}: loss {loss}, {detail}")
        self.step = step
        self.loss = loss


@dataclass(frozen=True)
class TrainingConfig:
    steps: int
    batch_size: int
    crop_size: int
    learning_rate: float
    lmbda: float
    seed: int = 0
    distortion: str = "mse"
    lr_decay_at: float | None = 0.8  # fraction of the steps after which the rate is decayed once
    lr_decay_factor: float = 0.1
    grad_clip: float | None = 1.0  # max gradient norm; None: no clipping
    log_every: int = 100  # steps between progress reports

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "crop_size", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainingConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("learning_rate", "lmbda"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"TrainingConfig.{name} must be finite and > 0, got {value}")
        if self.distortion not in DISTORTIONS:
            raise ValueError(
                f"TrainingConfig.distortion must be one of {DISTORTIONS}, got {self.distortion!r}"
            )
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


@dataclass(frozen=True)
class TrainingProgress:
    """Means over the steps since the previous report."""

    step: int
    steps: int
    loss: float
    bpp: float
    mse: float
    psnr: float  # estimate from the mean MSE of the noisy training forward, dB
    learning_rate: float
    elapsed_s: float


@dataclass(frozen=True)
class TrainingReport:
    """Means over the last tenth of the steps (and the first tenth, to show progress)."""

    final_loss: float
    initial_loss: float
    bpp: float  # likelihood estimate on training crops, not a real bitstream
    mse: float
    psnr: float
    steps_done: int
    seconds: float


@dataclass
class _Window:
    """Running sums for averaging losses over a span of steps."""

    loss: float = 0.0
    bpp: float = 0.0
    mse: float = 0.0
    count: int = 0

    def add(self, loss: float, bpp: float, mse: float) -> None:
        self.loss += loss
        self.bpp += bpp
        self.mse += mse
        self.count += 1

    def means(self) -> tuple[float, float, float]:
        n = max(self.count, 1)
        return self.loss / n, self.bpp / n, self.mse / n


def _check_inputs(
    model: LearnedCodec, images: Sequence[NamedImage], config: TrainingConfig
) -> None:
    if not images:
        raise ValueError("train() needs at least one image, got none")
    multiple = int(model.size_multiple)
    if config.crop_size % multiple:
        raise ValueError(
            f"crop_size {config.crop_size} is not a multiple of the model's "
            f"size_multiple {multiple}"
        )


def _distortion_loss(
    config: TrainingConfig, x: torch.Tensor, x_hat: torch.Tensor, mse: torch.Tensor
) -> torch.Tensor:
    if config.distortion == "mse":
        return config.lmbda * 255.0**2 * mse
    return config.lmbda * (1.0 - ms_ssim_tensor(x_hat, x, data_range=1.0))


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
    _check_inputs(model, images, config)
    crops = RandomCrops(images, config.crop_size, seed=config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    decay_step = (
        round(config.lr_decay_at * config.steps)
        if config.lr_decay_at is not None
        else config.steps + 1
    )
    summary_span = max(1, math.ceil(config.steps / 10))
    first, last, since_log = _Window(), _Window(), _Window()
    started = time.perf_counter()
    model.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        for step in range(1, config.steps + 1):
            if step == decay_step + 1:
                for group in optimizer.param_groups:
                    group["lr"] *= config.lr_decay_factor
            x = crops.next_batch(config.batch_size)
            out = model(x)
            bpp = model.rate_bits(out) / (x.shape[0] * x.shape[2] * x.shape[3])
            mse = torch.mean((out.x_hat - x) ** 2)
            loss = bpp + _distortion_loss(config, x, out.x_hat, mse)
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
            since_log.add(*values)
            if step <= summary_span:
                first.add(*values)
            if step > config.steps - summary_span:
                last.add(*values)
            if on_progress is not None and (step % config.log_every == 0 or step == config.steps):
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
                since_log = _Window()
    # the last optimizer step is not followed by a forward pass that would catch it
    for name, parameter in model.named_parameters():
        if not torch.isfinite(parameter).all():
            raise TrainingDiverged(
                config.steps,
                last.means()[0],
                f"parameter {name!r} is not finite after the last step",
            )
    model.eval()
    model.prepare_for_coding()
    final_loss, final_bpp, final_mse = last.means()
    return TrainingReport(
        final_loss,
        first.means()[0],
        final_bpp,
        final_mse,
        psnr_from_mse(final_mse),
        config.steps,
        time.perf_counter() - started,
    )
