"""Running a funnel campaign: the composition root of nas.funnel.

Wires the vectorised sampler (inside the funnel), the batch latency model, a Measurer that sends
decoders to benchmark agents through the job queue (an in-process agent on the embedded default,
or `codecnas agent` processes for `benchmark.agents: external`), and Ray for training.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from rich.console import Console

from codecnas.funnel_measure import BenchQueueMeasurer
from nas.domain import CampaignStatus, TrialJob, TrialOutcome, TrialRecord, TrialState
from nas.executor import Executor
from nas.funnel.runner import FunnelRunner
from nas.spec import CampaignSpec, parse_spec
from nas.storage.repository import CampaignStore
from search_spaces import get_space


class LazyExecutor:
    """Creates the real executor on the first trial: the screening stages need no Ray."""

    def __init__(self, factory: Callable[[], Executor]) -> None:
        self._factory = factory
        self._executor: Executor | None = None

    def _get(self) -> Executor:
        if self._executor is None:
            self._executor = self._factory()
        return self._executor

    @property
    def capacity(self) -> int:
        return self._get().capacity

    def submit(self, job: TrialJob) -> None:
        self._get().submit(job)

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        return self._get().wait(timeout) if self._executor is not None else []

    def running(self) -> int:
        return self._executor.running() if self._executor is not None else 0

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()


def ray_executor(spec: CampaignSpec) -> LazyExecutor:
    def create() -> Executor:
        from workers.ray_executor import RayExecutor  # Ray loads in seconds: only when needed

        return RayExecutor(
            address=spec.cluster.address,
            cpus_per_trial=spec.cluster.cpus_per_trial,
            max_parallel=spec.budget.parallel,
            gpus_per_trial=spec.cluster.gpus_per_trial,
        )

    return LazyExecutor(create)


def latency_model(spec: CampaignSpec) -> Any:
    from device_bench.batch_predictor import BatchLatencyModel

    return BatchLatencyModel(
        get_space(spec.space),
        part="decoder",
        tile=spec.benchmark.tile,
        backend=spec.benchmark.backend,
    )


def agents(store: CampaignStore, spec: CampaignSpec, say: Callable[[str], None]) -> Any:
    """The in-process agent for `benchmark.agents: local`; nothing to start for external ones."""
    if spec.benchmark.agents == "external":
        say(
            "measurements go to external agents: run `codecnas serve` on this database and "
            f"`codecnas agent --backend {spec.benchmark.backend} --server URL --token TOKEN`"
        )
        return nullcontext()
    from codecnas.local_agent import start_local_agent
    from device_bench.agent import AgentOptions

    options = AgentOptions(
        warmup=spec.benchmark.warmup,
        runs=spec.benchmark.runs,
        cache_dir=Path(store.artifact_root) / "agent-model-cache",
    )
    handle = start_local_agent(
        store,
        backend=spec.benchmark.backend,
        options=options,
        backend_options={"clock": spec.benchmark.clock} if spec.benchmark.clock == "cpu" else {},
    )
    return _Stopping(handle)


class _Stopping(AbstractContextManager[Any]):
    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def __exit__(self, *exc: object) -> None:
        self.handle.stop()


def run_funnel(
    store: CampaignStore,
    campaign_id: int,
    console: Console,
    executor: Executor | None = None,
) -> CampaignStatus:
    """Run (or resume) a funnel campaign: stored stages are skipped."""
    campaign = store.campaign(campaign_id)
    spec = parse_spec(campaign.spec, source=f"campaign {campaign.name!r}")
    assert spec.funnel is not None
    console.print(
        f"[bold]{campaign.name}[/]: funnel over {spec.funnel.configs:,} configs of the "
        f"{spec.space!r} space, decoder target {spec.funnel.latency_target_ms:g} ms "
        f"+-{spec.funnel.tolerance:.0%} (12 MP, {spec.benchmark.backend})"
    )
    measurer = BenchQueueMeasurer(
        store,
        campaign_id,
        get_space(spec.space),
        spec.benchmark,
        timeout_s=spec.funnel.measure.timeout_s,
    )
    with agents(store, spec, console.print):
        runner = FunnelRunner(
            store,
            campaign_id,
            latency_model=latency_model(spec),
            measurer=measurer,
            executor=executor or ray_executor(spec),
            log=console.print,
            on_trial=lambda trial: console.print(trial_line(trial)),
        )
        return runner.run()


def trial_line(trial: TrialRecord) -> str:
    rung = "proxy" if trial.rung == 0 else "full"
    if trial.state == TrialState.FAILED:
        return f"  {rung} trial {trial.number} [red]failed[/]: {(trial.error or '')[:120]}"
    values = ", ".join(f"{k} {v:.4g}" for k, v in (trial.objectives or {}).items())
    return f"  {rung} trial {trial.number} [green]done[/]: {values}"
