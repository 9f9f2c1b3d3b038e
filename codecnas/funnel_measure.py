"""The funnel's Measurer: decoders exported to ONNX, measured by benchmark agents via the queue.

Each config's decoder is exported at the spec's tile, stored by content hash, and enqueued as a
bench job; whichever agent leases it (the in-process one, or `codecnas agent` processes talking to
`codecnas serve` on the same database) measures it. A model already measured on that device is a
cache hit: a rerun of the funnel does not measure it again (weights are seeded, so the bytes and
their hash are the same).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import torch

from device_bench.onnx_export import ExportError, export_decoder
from nas.bench_domain import BenchJob, BenchJobState
from nas.errors import CodecnasError
from nas.spec import BenchmarkSpec
from nas.storage.repository import CampaignStore
from search_spaces.space import Config, SearchSpace

log = logging.getLogger(__name__)


class MeasurementTimeout(CodecnasError):
    """The agents did not finish a round of bench jobs in time."""


def decoder_onnx(space: SearchSpace, config: Config, tile: int) -> bytes:
    """The config's decoder as ONNX, with seeded weights (same config, same bytes)."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = space.build(config)
    return export_decoder(model, tile=tile)


class BenchQueueMeasurer:
    """Latency (12 MP decoder estimate, ms) by config hash; failed configs are left out."""

    def __init__(
        self,
        store: CampaignStore,
        campaign_id: int,
        space: SearchSpace,
        benchmark: BenchmarkSpec,
        *,
        timeout_s: float,
        poll_s: float = 0.25,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.campaign_id = campaign_id
        self.space = space
        self.benchmark = benchmark
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self._say = say or (lambda message: None)
        self.failures: dict[str, str] = {}  # config hash -> why it has no measurement

    def measure(self, configs: list[Config]) -> dict[str, float]:
        # Export everything first: exporting while an in-process agent times a graph would
        # disturb the measurement.
        jobs: dict[int, str] = {}
        for config in configs:
            key = self.space.hash(config)
            try:
                data = decoder_onnx(self.space, config, self.benchmark.tile)
            except ExportError as exc:
                self.failures[key] = str(exc)
                log.warning("config %s: decoder export failed: %s", key[:12], exc)
                continue
            job = self.store.enqueue_bench_job(
                model_sha256=self.store.put_model_artifact(data),
                model_format="onnx",
                part="decoder",
                backend=self.benchmark.backend,
                tile=self.benchmark.tile,
                campaign_id=self.campaign_id,
                config_hash=key,
            )
            jobs[job.id] = key
        return self._collect(self._wait(list(jobs)), jobs)

    def _wait(self, job_ids: list[int]) -> list[BenchJob]:
        deadline = time.monotonic() + self.timeout_s
        while True:
            current = [self.store.bench_job(i) for i in job_ids]
            waiting = [j for j in current if not j.state.is_finished]
            if not waiting:
                return current
            if time.monotonic() > deadline:
                raise MeasurementTimeout(
                    f"{len(waiting)} of {len(job_ids)} bench jobs (backend "
                    f"{self.benchmark.backend!r}, tile {self.benchmark.tile}) were not measured "
                    f"within {self.timeout_s:g} s: is a benchmark agent running? Start one with "
                    "`codecnas agent --backend onnxruntime --server URL --token TOKEN`, then "
                    "`codecnas campaign resume NAME`"
                )
            time.sleep(self.poll_s)

    def _collect(self, finished: list[BenchJob], jobs: dict[int, str]) -> dict[str, float]:
        results: dict[str, float] = {}
        for job in finished:
            key = jobs[job.id]
            if job.state == BenchJobState.DONE and job.result is not None:
                results[key] = job.result.estimate_12mp_ms
            else:
                self.failures[key] = job.error or f"bench job {job.id} {job.state.value}"
        return results
