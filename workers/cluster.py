"""Starting or joining Ray: local by default (embedded), or a cluster given its address."""

from __future__ import annotations

import logging
import os

import ray

log = logging.getLogger(__name__)


def connect(address: str | None = None, num_cpus: int | None = None) -> None:
    """Start a local Ray (no dashboard: it costs ~0.8 GB) or join the cluster at `address`."""
    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address:
        ray.init(address=address, log_to_driver=False)
        log.info("joined Ray cluster at %s", address)
        return
    ray.init(
        # "local": always a fresh embedded instance, never a cluster some `ray start` left running.
        address="local",
        num_cpus=num_cpus or os.cpu_count() or 1,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    log.info("started local Ray with %s CPUs", ray.cluster_resources().get("CPU"))


def total_cpus() -> float:
    return float(ray.cluster_resources().get("CPU", 1.0))


def total_gpus() -> float:
    return float(ray.cluster_resources().get("GPU", 0.0))


def disconnect() -> None:
    if ray.is_initialized():
        ray.shutdown()
