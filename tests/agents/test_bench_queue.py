"""Storage contract of the benchmark queue, on SQLite and (when a server is given) Postgres."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter

import pytest

from nas.bench_domain import BenchJobState, BenchMeasurement
from nas.errors import InvalidValueError, NotFoundError, StateConflictError
from nas.storage import CampaignStore
from nas.storage.bench_sql import MAX_BENCH_ATTEMPTS
from tests.storage.conftest import StoreFactory

LEASE = 60.0


def measured(p50: float = 2.0) -> BenchMeasurement:
    return BenchMeasurement(
        warmup=1,
        runs=3,
        p50_ms=p50,
        p90_ms=p50 * 1.5,
        estimate_12mp_ms=p50 * 48,
        cold_ms=10.0,
        details={"clock": "wall"},
    )


def agent(store: CampaignStore, name: str, device: str = "linux-box", backend: str = "onnxruntime"):
    return store.register_agent(name, device, backend, {"os": "Linux"})


def enqueue(store: CampaignStore, sha: str, **kw: object):
    options: dict[str, object] = {"model_format": "onnx", "part": "decoder", "tile": 64}
    options.update(kw)
    return store.enqueue_bench_job(model_sha256=sha, backend="onnxruntime", **options)  # type: ignore[arg-type]


def test_lease_complete_records_result_and_trial_measurement(
    store: CampaignStore, model_sha256: str
) -> None:
    campaign = store.create_campaign("bench", {})
    trial = store.create_trial(campaign.id, {"c": 1}, "h1")
    job = enqueue(store, model_sha256, campaign_id=campaign.id, trial_id=trial.id)
    assert job.state is BenchJobState.QUEUED and job.attempts == 0
    worker = agent(store, "a")

    leased = store.lease_bench_job(worker.id, LEASE)
    assert leased is not None and leased.id == job.id
    assert leased.state is BenchJobState.LEASED and leased.agent_id == worker.id
    assert leased.attempts == 1 and leased.lease_expires_at is not None
    assert store.lease_bench_job(worker.id, LEASE) is None  # nothing else queued

    done = store.complete_bench_job(job.id, worker.id, measured(2.0))
    assert done.state is BenchJobState.DONE and done.result is not None
    assert done.result.device == "linux-box" and done.result.p50_ms == 2.0
    assert store.model_artifact_path(model_sha256).is_file()
    [measurement] = store.measurements(trial.id)
    assert (measurement.device, measurement.part, measurement.tile) == ("linux-box", "decoder", 64)
    assert store.bench_jobs(campaign.id, BenchJobState.DONE) == [done]
    cached = store.cached_bench_result(
        model_sha256, "linux-box", "onnxruntime", "fp32", "decoder", 64
    )
    assert cached == done.result


def test_concurrent_leasing_never_gives_one_job_to_two_agents(
    open_store: StoreFactory, model_sha256: str
) -> None:
    first = open_store()
    # Distinct models: the same model is never handed to two agents of one device anyway.
    shas = [first.put_model_artifact(f"model {i}".encode()) for i in range(24)]
    for sha in shas:
        enqueue(first, sha)
    stores = [open_store() for _ in range(4)]
    agents = [agent(s, f"agent-{i}", device=f"dev-{i}") for i, s in enumerate(stores)]
    leased: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(stores))

    def drain(store: CampaignStore, agent_id: int) -> None:
        barrier.wait()
        while (job := store.lease_bench_job(agent_id, LEASE)) is not None:
            with lock:
                leased.append(job.id)

    threads = [
        threading.Thread(target=drain, args=(s, a.id)) for s, a in zip(stores, agents, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = Counter(leased)
    assert len(counts) == len(shas) and set(counts.values()) == {1}, counts
    jobs = first.bench_jobs(state=BenchJobState.LEASED)
    assert len(jobs) == len(shas) and all(j.attempts == 1 for j in jobs)


def test_an_expired_lease_returns_to_the_queue_and_the_silent_agent_is_refused(
    store: CampaignStore, model_sha256: str
) -> None:
    job = enqueue(store, model_sha256)
    silent, other = agent(store, "silent"), agent(store, "other")
    assert store.lease_bench_job(silent.id, 0.2) is not None
    assert store.lease_bench_job(other.id, LEASE) is None  # still held (and same device)
    time.sleep(0.3)

    again = store.lease_bench_job(other.id, LEASE)
    assert again is not None and again.id == job.id
    assert again.agent_id == other.id and again.attempts == 2
    with pytest.raises(StateConflictError, match=f"leased to agent {other.id}"):
        store.complete_bench_job(job.id, silent.id, measured())
    with pytest.raises(StateConflictError):
        store.renew_bench_lease(job.id, silent.id, LEASE)
    assert store.bench_results() == []
    renewed = store.renew_bench_lease(job.id, other.id, LEASE)
    assert renewed.lease_expires_at is not None and again.lease_expires_at is not None
    assert renewed.lease_expires_at >= again.lease_expires_at
    assert store.complete_bench_job(job.id, other.id, measured()).state is BenchJobState.DONE


def test_only_the_lease_holder_completes_or_fails_and_refusals_write_nothing(
    store: CampaignStore, model_sha256: str
) -> None:
    job = enqueue(store, model_sha256)
    holder, intruder = agent(store, "holder"), agent(store, "intruder", device="other")
    store.lease_bench_job(holder.id, LEASE)
    before = store.bench_job(job.id)
    for call in (
        lambda: store.complete_bench_job(job.id, intruder.id, measured()),
        lambda: store.fail_bench_job(job.id, intruder.id, "boom"),
        lambda: store.renew_bench_lease(job.id, intruder.id, LEASE),
    ):
        with pytest.raises(StateConflictError, match=f"leased to agent {holder.id}"):
            call()
    assert store.bench_job(job.id) == before
    assert store.bench_results() == []

    failed = store.fail_bench_job(job.id, holder.id, "cannot load: bad opset")
    assert failed.state is BenchJobState.FAILED and failed.error == "cannot load: bad opset"
    with pytest.raises(StateConflictError, match="it is failed, not leased"):
        store.complete_bench_job(job.id, holder.id, measured())
    with pytest.raises(NotFoundError, match="bench job 999999"):
        store.complete_bench_job(999_999, holder.id, measured())


def test_a_model_measured_on_a_device_is_a_cache_hit_for_the_next_job(
    store: CampaignStore, model_sha256: str
) -> None:
    campaign = store.create_campaign("cache", {})
    trials = [store.create_trial(campaign.id, {"c": i}, f"h{i}") for i in range(2)]
    first = enqueue(store, model_sha256, trial_id=trials[0].id)
    worker = agent(store, "a")
    store.lease_bench_job(worker.id, LEASE)
    store.complete_bench_job(first.id, worker.id, measured(3.0))

    second = enqueue(store, model_sha256, trial_id=trials[1].id)
    other_model = store.put_model_artifact(b"another model")
    third = enqueue(store, other_model)
    # The cached job is done at lease time; the agent is given the next job instead.
    leased = store.lease_bench_job(worker.id, LEASE)
    assert leased is not None and leased.id == third.id
    hit = store.bench_job(second.id)
    assert hit.state is BenchJobState.DONE and hit.result is not None
    assert hit.result.p50_ms == 3.0 and hit.attempts == 0
    assert len(store.bench_results()) == 1
    assert [m.p50_ms for m in store.measurements(trials[1].id)] == [3.0]

    # Another device has no cached result: it measures the model itself.
    enqueue(store, model_sha256)
    elsewhere = agent(store, "b", device="iphone-16-pro")
    assert store.lease_bench_job(elsewhere.id, LEASE) is not None


def test_a_model_under_lease_on_a_device_is_not_measured_twice_there(
    store: CampaignStore, model_sha256: str
) -> None:
    jobs = [enqueue(store, model_sha256) for _ in range(2)]
    one, two = agent(store, "one"), agent(store, "two")
    elsewhere = agent(store, "far", device="other-box")
    assert store.lease_bench_job(one.id, LEASE).id == jobs[0].id  # type: ignore[union-attr]
    assert store.lease_bench_job(two.id, LEASE) is None
    assert store.lease_bench_job(elsewhere.id, LEASE).id == jobs[1].id  # type: ignore[union-attr]


def test_jobs_go_only_to_agents_of_their_backend(store: CampaignStore, model_sha256: str) -> None:
    enqueue(store, model_sha256)
    coreml = agent(store, "mac", backend="coreml")
    assert store.lease_bench_job(coreml.id, LEASE) is None
    assert store.lease_bench_job(agent(store, "ort").id, LEASE) is not None


def test_a_job_whose_agents_keep_going_silent_fails_at_last(
    store: CampaignStore, model_sha256: str
) -> None:
    job = enqueue(store, model_sha256)
    worker = agent(store, "a")
    for _ in range(MAX_BENCH_ATTEMPTS):
        assert store.lease_bench_job(worker.id, 0.05) is not None
        time.sleep(0.08)
    assert store.lease_bench_job(worker.id, LEASE) is None
    failed = store.bench_job(job.id)
    assert failed.state is BenchJobState.FAILED and "expired 5 times" in (failed.error or "")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("p50_ms", math.nan, "p50_ms is nan"),
        ("p90_ms", -1.0, "p90_ms must be positive"),
        ("runs", 0, "runs must be an integer >= 1"),
    ],
)
def test_bad_measurements_are_refused_by_name(
    store: CampaignStore, model_sha256: str, field: str, value: object, message: str
) -> None:
    job = enqueue(store, model_sha256)
    worker = agent(store, "a")
    store.lease_bench_job(worker.id, LEASE)
    values = {**measured().__dict__, field: value}
    with pytest.raises(InvalidValueError, match=message):
        store.complete_bench_job(job.id, worker.id, BenchMeasurement(**values))
    assert store.bench_job(job.id).state is BenchJobState.LEASED


def test_bad_jobs_and_agents_are_refused(store: CampaignStore, model_sha256: str) -> None:
    with pytest.raises(NotFoundError, match="artifact"):
        enqueue(store, "ab" * 32)
    with pytest.raises(InvalidValueError, match="invalid artifact digest"):
        enqueue(store, "../../etc/passwd")
    with pytest.raises(InvalidValueError, match="tile must be an integer >= 1"):
        enqueue(store, model_sha256, tile=0)
    with pytest.raises(NotFoundError, match="campaign 4242"):
        enqueue(store, model_sha256, campaign_id=4242)
    with pytest.raises(InvalidValueError, match="device"):
        store.register_agent("a", "", "onnxruntime", {})
    with pytest.raises(NotFoundError, match="agent 777"):
        store.lease_bench_job(777, LEASE)
    with pytest.raises(InvalidValueError, match="lease_seconds"):
        store.lease_bench_job(agent(store, "a").id, 0)
