"""Campaign runs started from the dashboard, each in its own process.

The process is ``codecnas campaign resume NAME --db URL`` (DashboardSettings.campaign_command):
the web process never imports Ray, a crash of a run cannot take the server down, and a run
started here behaves exactly like one started from a terminal. Stopping sends SIGINT, which the
CLI turns into a resumable interruption (running trials go back to pending).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nas.domain import CampaignRecord
from nas.errors import StateConflictError


@dataclass(frozen=True)
class RunInfo:
    """What this server knows of a campaign's latest run started here."""

    pid: int
    running: bool
    exit_code: int | None
    log: str


class CampaignLauncher:
    def __init__(
        self,
        command: Sequence[str],
        database_url: str,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._command = list(command)
        self._database_url = database_url
        self._log_dir = Path(log_dir)
        self._env = dict(env or {})
        self._runs: dict[int, tuple[subprocess.Popen[bytes], Path]] = {}
        self._lock = threading.Lock()

    def start(self, campaign: CampaignRecord) -> RunInfo:
        """Start a run of ``campaign``; StateConflictError if one started here still runs."""
        with self._lock:
            if self._alive(campaign.id):
                raise StateConflictError(
                    f"campaign {campaign.name!r} is already running "
                    f"(pid {self._runs[campaign.id][0].pid}, started by this server)"
                )
            self._log_dir.mkdir(parents=True, exist_ok=True)
            log = self._log_dir / f"campaign-{campaign.id}-{campaign.name}.log"
            argv = [*self._command, campaign.name, "--db", self._database_url]
            with log.open("ab") as out:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, **self._env},
                    # Its own process group: Ctrl-C in the server's terminal does not reach it,
                    # and stop() can signal the run with the workers it started.
                    start_new_session=True,
                )
            self._runs[campaign.id] = (process, log)
            return self._info(campaign.id)

    def stop(self, campaign_id: int) -> bool:
        """Interrupt the run started here; False if none runs."""
        with self._lock:
            if not self._alive(campaign_id):
                return False
            process = self._runs[campaign_id][0]
            os.killpg(process.pid, signal.SIGINT)
            return True

    def info(self, campaign_id: int) -> RunInfo | None:
        with self._lock:
            return self._info(campaign_id) if campaign_id in self._runs else None

    def is_running(self, campaign_id: int) -> bool:
        with self._lock:
            return self._alive(campaign_id)

    def shutdown(self, stop_runs: bool, timeout: float = 30.0) -> None:
        """On server exit: interrupt the runs (they stay resumable) and wait for them."""
        with self._lock:
            alive = [process for process, _ in self._runs.values() if process.poll() is None]
        if not stop_runs:
            return
        for process in alive:
            os.killpg(process.pid, signal.SIGINT)
        for process in alive:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def _alive(self, campaign_id: int) -> bool:
        run = self._runs.get(campaign_id)
        return run is not None and run[0].poll() is None

    def _info(self, campaign_id: int) -> RunInfo:
        process, log = self._runs[campaign_id]
        code = process.poll()
        return RunInfo(pid=process.pid, running=code is None, exit_code=code, log=str(log))
