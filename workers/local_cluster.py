"""A multi-node Ray cluster on this machine: a head and worker nodes as `ray start` processes.

For tests and benchmarks of multi-node behaviour without more machines. Each node runs
`ray start --block` in its own session, so stopping it kills that node's process group only
(`ray stop` would stop every Ray on the machine, including other campaigns').
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalCluster:
    """`with LocalCluster(worker_nodes=2, cpus_per_node=1) as cluster: ... cluster.address`."""

    def __init__(self, worker_nodes: int = 1, cpus_per_node: int = 1, head_cpus: int = 1) -> None:
        self.worker_nodes = worker_nodes
        self.cpus_per_node = cpus_per_node
        self.head_cpus = head_cpus
        # Ray 2.60 needs token auth on every node of a multi-node cluster.
        self.env = dict(
            os.environ,
            RAY_AUTH_MODE="token",
            RAY_AUTH_TOKEN=secrets.token_hex(16),
            RAY_USAGE_STATS_ENABLED="0",
        )
        self.address = f"127.0.0.1:{_free_port()}"
        # Unix socket paths are limited to 107 bytes: keep Ray's temp folder short.
        self._temp = Path(tempfile.mkdtemp(prefix="cnas-ray-"))
        self._nodes: list[subprocess.Popen[bytes]] = []

    def _start_node(self, cpus: int, *args: str) -> None:
        self._nodes.append(
            subprocess.Popen(
                [
                    str(RAY),
                    "start",
                    "--block",
                    f"--num-cpus={cpus}",
                    "--disable-usage-stats",
                    *args,
                ],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )

    def node_count(self) -> int:
        result = subprocess.run(
            [str(RAY), "status", f"--address={self.address}"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return result.stdout.count("node_") if result.returncode == 0 else 0

    def _wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.node_count() >= count:
                return
            time.sleep(1.0)
        raise TimeoutError(f"Ray cluster at {self.address} did not reach {count} nodes")

    def start(self, timeout: float = 120) -> LocalCluster:
        port = self.address.rsplit(":", 1)[1]
        self._start_node(
            self.head_cpus,
            "--head",
            f"--port={port}",
            f"--temp-dir={self._temp}",
            "--include-dashboard=false",
        )
        self._wait_for(1, timeout)
        for _ in range(self.worker_nodes):
            self._start_node(self.cpus_per_node, f"--address={self.address}")
        self._wait_for(1 + self.worker_nodes, timeout)
        return self

    def stop(self) -> None:
        for node in reversed(self._nodes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGKILL)
            node.wait()
        self._nodes.clear()
        shutil.rmtree(self._temp, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
