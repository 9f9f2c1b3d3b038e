"""Which device a trial trains on, and what Ray is asked for per trial (no Ray started here)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import workers.ray_executor as ray_executor
import workers.trial_pipeline as pipeline
from nas.domain import TrialJob
from nas.errors import ResourceError
from nas.spec import CampaignSpec, parse_spec
from search_spaces import get_space
from tests.conftest import tiny_spec


def _spec(training: dict[str, Any] | None = None, gpus: float = 0.0) -> CampaignSpec:
    return parse_spec(tiny_spec(training=training or {}, cluster={"gpus_per_trial": gpus}))


def _job(spec: CampaignSpec) -> TrialJob:
    space = get_space(spec.space)
    config = space.sample(np.random.default_rng(0))
    return TrialJob(
        campaign_id=1,
        trial_id=1,
        number=0,
        attempt=1,
        space=spec.space,
        config=config,
        config_hash=space.hash(config),
        spec=spec.to_json(),
    )


@pytest.mark.parametrize(
    "device, has_gpu, expected",
    [
        ("auto", False, "cpu"),  # Ray reserved no GPU: keep off the ones it may give others
        ("auto", True, "auto"),
        ("cpu", True, "cpu"),
        ("cpu", False, "cpu"),
        ("cuda", True, "cuda"),
    ],
)
def test_a_trial_uses_a_gpu_only_when_given_one(device: str, has_gpu: bool, expected: str) -> None:
    spec = _spec({"device": device}, gpus=1.0 if device == "cuda" else 0.0)
    assert pipeline.training_device(spec, has_gpu) == expected


def test_the_spec_training_section_reaches_the_training_config() -> None:
    spec = _spec({"device": "auto", "mixed_precision": False, "warmup_steps": 3}, gpus=1.0)
    config = pipeline._training_config(spec, _job(spec), size_multiple=16, has_gpu=True)
    assert (config.device, config.mixed_precision, config.warmup_steps) == ("auto", False, 3)
    config = pipeline._training_config(spec, _job(spec), size_multiple=16, has_gpu=False)
    assert config.device == "cpu"


class _Stop(Exception):
    pass


@pytest.mark.parametrize(
    "gpus, has_gpu, expected",
    [
        (0.0, None, "cpu"),  # in-process, no GPU in the spec
        (0.5, None, "auto"),  # in-process, the spec gives trials a GPU
        (0.5, False, "cpu"),  # a Ray task that was given none
    ],
)
def test_run_trial_trains_on_the_device_it_was_given(
    monkeypatch: pytest.MonkeyPatch, gpus: float, has_gpu: bool | None, expected: str
) -> None:
    seen: list[str] = []

    def fake_train(model: Any, images: Any, config: Any) -> Any:
        seen.append(config.device)
        raise _Stop("stop after the config")

    monkeypatch.setattr(pipeline, "train", fake_train)
    spec = _spec({"device": "auto"}, gpus=gpus)
    outcome = pipeline.run_trial(_job(spec), has_gpu=has_gpu)
    assert not outcome.ok and "stop after the config" in (outcome.error or "")
    assert seen == [expected]


# ---- the Ray executor -----------------------------------------------------------------------


def _executor(
    monkeypatch: pytest.MonkeyPatch, cpus: float, gpus: float, **kwargs: Any
) -> ray_executor.RayExecutor:
    monkeypatch.setattr(ray_executor, "connect", lambda address, num_cpus=None: None)
    monkeypatch.setattr(ray_executor, "total_cpus", lambda: cpus)
    monkeypatch.setattr(ray_executor, "total_gpus", lambda: gpus)
    return ray_executor.RayExecutor(**kwargs)


def test_without_gpus_per_trial_ray_is_asked_for_none(monkeypatch: pytest.MonkeyPatch) -> None:
    executor = _executor(monkeypatch, cpus=4, gpus=2, cpus_per_trial=1.0)
    assert executor.options == {
        "num_cpus": 1.0,
        "num_gpus": 0.0,
        "max_retries": 0,
        "retry_exceptions": False,
    }
    assert executor.capacity == 4  # CPUs alone decide


def test_gpus_per_trial_are_asked_for_and_bound_the_capacity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    executor = _executor(monkeypatch, cpus=16, gpus=2, cpus_per_trial=1.0, gpus_per_trial=0.5)
    assert executor.options["num_gpus"] == 0.5 and executor.options["num_cpus"] == 1.0
    assert executor.capacity == 4
    assert _executor(monkeypatch, 16, 2, gpus_per_trial=1.0, max_parallel=1).capacity == 1


def test_submit_sends_the_options_to_the_gpu_task(monkeypatch: pytest.MonkeyPatch) -> None:
    executor = _executor(monkeypatch, cpus=4, gpus=1, cpus_per_trial=2.0, gpus_per_trial=1.0)
    sent: list[dict[str, Any]] = []

    class FakeTask:
        def options(self, **options: Any) -> FakeTask:
            sent.append(options)
            return self

        def remote(self, job: TrialJob) -> str:
            return f"ref {job.trial_id}"

    assert executor._task is ray_executor._run_gpu_trial_task
    executor._task = FakeTask()  # type: ignore[assignment]
    spec = _spec()
    executor.submit(_job(spec))
    assert sent == [executor.options] and sent[0]["num_gpus"] == 1.0
    assert executor.running() == 1


def test_a_gpu_trial_worker_exits_after_its_trial() -> None:
    # torch reads CUDA_VISIBLE_DEVICES once per process, and keeps its GPU memory cached
    assert ray_executor._run_gpu_trial_task._max_calls == 1  # type: ignore[attr-defined]
    assert ray_executor._run_trial_task._max_calls == 0  # type: ignore[attr-defined]  # unlimited


@pytest.mark.parametrize("gpus", [0.0, 0.25, 1.0, 2.0])
def test_ray_accepts_the_options(gpus: float) -> None:
    # .options() validates without a running Ray
    options = ray_executor.task_options(1.0, gpus)
    ray_executor._run_trial_task.options(**options)
    ray_executor._run_gpu_trial_task.options(**options)


def test_more_cpus_per_trial_than_the_cluster_has_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ray would queue the task for ever: the run hung at "trial 0 running" with no message.
    with pytest.raises(ResourceError, match=r"cpus_per_trial is 8 but the Ray cluster has 2 CPUs"):
        _executor(monkeypatch, cpus=2, gpus=0, cpus_per_trial=8.0)


def test_more_gpus_per_trial_than_the_cluster_has_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValueError, match=r"gpus_per_trial is 1\.0 but the Ray cluster has 0 GPUs"):
        _executor(monkeypatch, cpus=4, gpus=0, gpus_per_trial=1.0)
    with pytest.raises(ValueError, match="gpus_per_trial must be >= 0"):
        _executor(monkeypatch, cpus=4, gpus=0, gpus_per_trial=-1.0)
