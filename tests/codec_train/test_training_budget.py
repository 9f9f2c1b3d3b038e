"""A wall-clock budget stops training early, decays the rate on time, leaves a codable model."""

from __future__ import annotations

import pytest

from codec.training import TrainingConfig, TrainingProgress, train
from tests.codec_train.models import photo_crops, tiny_codec

IMAGES = photo_crops()[:1]


def budget_config(**overrides: object) -> TrainingConfig:
    values: dict[str, object] = {
        "steps": 1_000_000,
        "batch_size": 2,
        "crop_size": 32,
        "learning_rate": 1e-3,
        "lmbda": 0.01,
        "log_every": 1_000_000,
        "max_seconds": 1.5,
    }
    values.update(overrides)
    return TrainingConfig(**values)  # type: ignore[arg-type]


def test_a_time_budget_ends_training_with_a_decayed_rate_and_a_codable_model() -> None:
    model = tiny_codec(hyperprior=True)
    progress: list[TrainingProgress] = []
    report = train(model, IMAGES, budget_config(), on_progress=progress.append)

    assert 1 < report.steps_done < 1_000_000
    assert report.seconds >= 1.5
    # the one report at the last step: the steps were a cap, the budget ended the run
    assert [p.step for p in progress] == [report.steps_done]
    assert progress[0].learning_rate == pytest.approx(1e-4)  # decayed at 80% of the budget
    data = model.compress(model.encoder_example_inputs(32, 32)[0])
    assert model.decompress(data).shape == (1, 3, 32, 32)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_a_bad_time_budget_is_rejected_by_name(bad: float) -> None:
    with pytest.raises(ValueError, match="max_seconds"):
        budget_config(max_seconds=bad)
