"""Which weights a trial starts from (training.init): the nearest trained trial, a model folder,
or scratch; chosen by the controller and sent with the job (nas/inheritance.py)."""

from __future__ import annotations

import io

import pytest
import torch

from nas.controller import Controller
from nas.domain import ArtifactPayload, TrialJob, TrialOutcome
from nas.errors import SpecError
from nas.executor import InProcessExecutor
from nas.spec import parse_spec
from search_spaces import get_space
from search_spaces.inheritance import config_distance
from tests.conftest import tiny_spec
from tests.nas.model_folders import write_model_dir


class RecordingTrials:
    """A trial body that keeps each job and stores freshly built weights as its checkpoint."""

    def __init__(self, weights: bool = True) -> None:
        self.jobs: list[TrialJob] = []
        self.weights = weights

    def __call__(self, job: TrialJob) -> TrialOutcome:
        self.jobs.append(job)
        artifacts = []
        if self.weights:
            buffer = io.BytesIO()
            torch.save(get_space(job.space).build(job.config).state_dict(), buffer)
            artifacts.append(ArtifactPayload("checkpoint", "model.pt", buffer.getvalue()))
        metrics = {"quality_ratio_vs_jpeg": 2.0, "decode_ms_12mp": 10.0 + job.number}
        kind = "scratch" if job.init is None else job.init.described["kind"]
        return TrialOutcome(
            job.trial_id,
            ok=True,
            metrics=metrics,
            artifacts=artifacts,
            initialisation={"kind": kind},
        )


def _run(store, trials: int = 4, **training):
    spec = parse_spec(tiny_spec(budget={"trials": trials, "parallel": 1}, training=training))
    campaign = store.create_campaign(spec.name, spec.to_json())
    body = RecordingTrials()
    Controller(store, campaign.id, InProcessExecutor(body)).run()
    return campaign, body.jobs


def test_by_default_each_trial_starts_from_the_nearest_trained_trial(store):
    campaign, jobs = _run(store, trials=5)
    space = get_space("basic")
    assert jobs[0].init is None  # nothing trained yet, no fallback folder: scratch
    for index, job in enumerate(jobs[1:], start=1):
        assert job.init is not None
        earlier = jobs[:index]
        distances = [config_distance(space, job.config, e.config) for e in earlier]
        chosen = job.init.described["trial_number"]
        assert distances[chosen] == min(distances)
        # Ties go to the latest trial: it trained last.
        assert chosen == max(i for i, d in enumerate(distances) if d == min(distances))
        assert job.init.described["distance"] == pytest.approx(min(distances))
        assert job.init.described["config_hash"] == earlier[chosen].config_hash
        assert job.init.config == earlier[chosen].config
    stored = store.trials(campaign.id)
    assert [t.initialisation["kind"] for t in stored] == ["scratch"] + ["trial"] * 4


def test_scratch_keeps_every_trial_fresh(store):
    _, jobs = _run(store, init="scratch")
    assert all(job.init is None for job in jobs)


def test_a_model_folder_initialises_every_trial(store, tmp_path):
    folder = write_model_dir(tmp_path / "reference")
    _, jobs = _run(store, init=str(folder))
    assert all(job.init is not None for job in jobs)
    for job in jobs:
        assert job.init.described["kind"] == "model_dir"
        assert job.init.described["path"] == str(folder.resolve())
        assert job.init.weights == (folder / "model.pt").read_bytes()


def test_the_fallback_folder_serves_until_a_trial_has_weights(store, tmp_path):
    folder = write_model_dir(tmp_path / "reference")
    _, jobs = _run(store, init="nearest", init_fallback=str(folder))
    assert jobs[0].init.described["kind"] == "model_dir"
    assert [job.init.described["kind"] for job in jobs[1:]] == ["trial"] * 3


def test_trials_without_stored_weights_are_not_sources(store):
    spec = parse_spec(tiny_spec(budget={"trials": 3, "parallel": 1}))
    campaign = store.create_campaign(spec.name, spec.to_json())
    body = RecordingTrials(weights=False)
    Controller(store, campaign.id, InProcessExecutor(body)).run()
    assert all(job.init is None for job in body.jobs)


def test_a_bad_model_folder_stops_the_launch_naming_it(store, tmp_path):
    spec = parse_spec(tiny_spec(training={"init": str(tmp_path / "missing")}))
    campaign = store.create_campaign(spec.name, spec.to_json())
    with pytest.raises(SpecError, match="missing"):
        Controller(store, campaign.id, InProcessExecutor(RecordingTrials()))


def test_a_fallback_needs_init_nearest():
    with pytest.raises(SpecError, match="init_fallback"):
        parse_spec(tiny_spec(training={"init": "scratch", "init_fallback": "somewhere"}))
