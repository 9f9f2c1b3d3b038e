"""A controller process for the fault tests: runs a campaign with a real but tiny trial function.

    python -m tests.faults.controller_process DB_URL ARTIFACTS CAMPAIGN EXECUTION_LOG SECONDS

Each trial sleeps SECONDS (so that controllers overlap) and appends one line
"number trial_id attempt pid" to EXECUTION_LOG, with O_APPEND, so the test can count how many
times each trial really ran, whatever the database says.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from nas.controller import Controller
from nas.domain import ArtifactPayload, TrialJob, TrialOutcome
from nas.executor import InProcessExecutor
from nas.storage.repository import CampaignStore
from search_spaces.macs import config_macs


def synthetic_outcome(job: TrialJob) -> TrialOutcome:
    """A deterministic function of the config, shaped like the real metrics."""
    macs = config_macs(job.space, job.config)
    cost = (macs.encoder + macs.decoder) / 20.0
    return TrialOutcome(
        trial_id=job.trial_id,
        ok=True,
        metrics={
            "quality_ratio_vs_jpeg": 3.0 / (1 + cost / 64),
            "decode_ms_12mp": 100.0 * cost,
            "bpp": 1.0,
        },
        artifacts=[ArtifactPayload("config", "config.json", job.config_hash.encode())],
    )


def logging_trial(log_path: Path, seconds: float):  # type: ignore[no-untyped-def]
    def run(job: TrialJob) -> TrialOutcome:
        time.sleep(seconds)
        line = f"{job.number} {job.trial_id} {job.attempt} {os.getpid()}\n".encode()
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return synthetic_outcome(job)

    return run


def main(argv: list[str]) -> int:
    url, artifacts, campaign, log_path, seconds = argv
    with CampaignStore(url, Path(artifacts)) as store:
        campaign_id = store.campaign(campaign).id
        executor = InProcessExecutor(logging_trial(Path(log_path), float(seconds)), capacity=2)
        Controller(store, campaign_id, executor).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
