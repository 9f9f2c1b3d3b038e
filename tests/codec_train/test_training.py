"""Training a tiny real codec: the loss falls, divergence is caught, nothing global changes."""

from __future__ import annotations

import math

import pytest
import torch

from codec.losses import LossWeights
from codec.training import TrainingConfig, TrainingDiverged, TrainingProgress, train
from tests.codec_train.models import photo_crops, tiny_codec

IMAGES = photo_crops()[:1]


def config(**overrides: object) -> TrainingConfig:
    values: dict[str, object] = {
        "steps": 100,
        "batch_size": 4,
        "crop_size": 32,
        "learning_rate": 3e-3,
        "lmbda": 0.01,
        "seed": 0,
        "log_every": 25,
    }
    values.update(overrides)
    return TrainingConfig(**values)  # type: ignore[arg-type]


def test_training_lowers_the_loss_and_leaves_the_model_ready_to_code() -> None:
    model = tiny_codec(hyperprior=True)
    progress: list[TrainingProgress] = []
    threads, rng_state = torch.get_num_threads(), torch.random.get_rng_state()
    report = train(model, IMAGES, config(), on_progress=progress.append)

    assert report.steps_done == 100 and report.seconds > 0
    assert report.final_loss < 0.3 * report.initial_loss
    assert report.final_loss == pytest.approx(report.bpp + 0.01 * 255**2 * report.mse, rel=1e-6)
    assert report.psnr == pytest.approx(10 * math.log10(1 / report.mse))
    assert [p.step for p in progress] == [25, 50, 75, 100]
    assert progress[-1].loss < progress[0].loss
    assert progress[0].learning_rate == 3e-3
    assert progress[-1].learning_rate == pytest.approx(3e-4)  # decayed after 80% of the steps
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), rng_state)
    assert not model.training
    x = torch.rand(1, 3, 20, 24)
    assert model.decompress(model.compress(x)).shape == x.shape  # prepared for coding


def test_same_seed_same_weights() -> None:
    first, second = tiny_codec(hyperprior=False), tiny_codec(hyperprior=False)
    report_a = train(first, IMAGES, config(steps=8, seed=5))
    report_b = train(second, IMAGES, config(steps=8, seed=5))
    assert report_a.final_loss == report_b.final_loss
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=False):
        assert torch.equal(a, b), name


def test_huge_learning_rate_raises_training_diverged() -> None:
    with pytest.raises(TrainingDiverged, match=r"step \d+: loss (nan|inf)") as caught:
        train(tiny_codec(hyperprior=False), IMAGES, config(steps=30, learning_rate=1e6))
    assert 1 <= caught.value.step <= 30 and not math.isfinite(caught.value.loss)


def test_nan_weights_fail_at_the_first_step() -> None:
    model = tiny_codec(hyperprior=True)
    with torch.no_grad():
        next(model.parameters()).fill_(math.nan)
    with pytest.raises(TrainingDiverged, match="step 1: loss nan"):
        train(model, IMAGES, config(steps=5))


def test_ms_ssim_distortion_trains_on_small_crops() -> None:
    weights = LossWeights(mse=0.0, ms_ssim=1.0)
    report = train(tiny_codec(hyperprior=False), IMAGES, config(steps=6, loss=weights))
    assert math.isfinite(report.final_loss) and report.steps_done == 6


def test_crop_size_must_fit_the_model() -> None:
    with pytest.raises(ValueError, match="crop_size 24 .* size_multiple 16"):
        train(tiny_codec(hyperprior=True), IMAGES, config(crop_size=24))


@pytest.mark.parametrize(
    "field, value",
    [
        ("steps", 0),
        ("learning_rate", -1.0),
        ("lmbda", math.inf),
        ("text_fraction", 1.5),
        ("tile_margin", -1),
        ("lr_decay_at", 1.5),
        ("grad_clip", 0.0),
    ],
)
def test_config_rejects_bad_values(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"{field}.*{value}"):
        config(**{field: value})
