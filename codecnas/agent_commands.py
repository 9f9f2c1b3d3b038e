"""`codecnas agent`: a benchmark agent process that measures models for a `codecnas serve` server.

It checks everything it can before it contacts the server: a placeholder token (CHANGE_ME, as in
.env.example) or a backend that cannot run on this machine (Core ML off macOS) ends it at once
with the reason and exit code 2. SIGTERM or Ctrl-C lets it finish the job it is measuring.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from device_bench.backends import BenchmarkBackend

console = Console(stderr=True)
PLACEHOLDER = "CHANGE_ME"
# Backends that take a thread count (the others run on their own accelerator).
_THREADED_BACKENDS = ("onnxruntime", "torch")
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _refuse(message: str) -> typer.Exit:
    console.print(f"[red]codecnas agent: {message}[/]")
    return typer.Exit(code=2)


def check_token(token: str) -> str:
    if not token.strip():
        raise _refuse("--token is empty: create one with `codecnas token create --role agent`")
    if PLACEHOLDER in token:
        raise _refuse(
            f"the token is the placeholder {token!r} (from .env.example): create a real one "
            "with `codecnas token create --role agent` and set CODECNAS_AGENT_TOKEN to it"
        )
    return token


def backend_options(pairs: list[str], name: str, threads: int) -> dict[str, Any]:
    """--backend-option KEY=VALUE pairs (udid=..., xctestrun=..., compute_units=...)."""
    options: dict[str, Any] = {"threads": threads} if name in _THREADED_BACKENDS else {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise _refuse(f"--backend-option must be KEY=VALUE, got {pair!r}")
        options[key.strip()] = value
    return options


def open_backend(name: str, options: dict[str, Any]) -> BenchmarkBackend:
    # device_bench is imported when an agent starts: it loads torch and onnx, in seconds, which
    # every other command would pay for at start-up.
    from device_bench.backends import BackendUnavailable, create_backend

    try:
        return create_backend(name, **options)
    except BackendUnavailable as error:
        raise _refuse(f"backend {name!r} cannot run on this machine: {error}") from error
    except TypeError as error:  # a missing or unknown option of the backend's constructor
        raise _refuse(f"backend {name!r}: {error} (pass it with --backend-option)") from error
    except (KeyError, ValueError) as error:
        raise _refuse(str(error).strip("'\"")) from error


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set `stop` inside the block; the previous handlers come back after."""

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        console.print(f"[yellow]{signal.Signals(signum).name}: stopping after the current job[/]")
        stop.set()

    previous = {number: signal.signal(number, request_stop) for number in _STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def agent(
    backend: str = typer.Option("onnxruntime", help="onnxruntime, torch, coreml or iphone"),
    server: str = typer.Option(
        ..., envvar="CODECNAS_SERVER", help="URL of `codecnas serve`, e.g. http://host:8000"
    ),
    token: str = typer.Option(
        ..., envvar="CODECNAS_AGENT_TOKEN", help="a token with role agent (or admin)"
    ),
    name: str | None = typer.Option(None, help="this agent's name (default: backend@device)"),
    threads: int = typer.Option(1, min=1, help="threads of a CPU backend"),
    max_jobs: int | None = typer.Option(None, min=1, help="exit after this many jobs"),
    lease_seconds: float = typer.Option(
        60.0, min=1.0, help="a job returns to the queue if the agent is silent this long"
    ),
    warmup: int = typer.Option(3, min=0, help="untimed runs before timing"),
    runs: int = typer.Option(10, min=1, help="timed runs (p50 and p90 over them)"),
    idle_exit: float | None = typer.Option(
        None, min=0.0, help="exit when the queue has been empty this many seconds"
    ),
    poll_seconds: float = typer.Option(
        2.0, min=0.05, help="longest pause between polls of an empty queue"
    ),
    cache_dir: Path | None = typer.Option(None, help="local model cache (by content hash)"),
    retry_seconds: float = typer.Option(
        120.0, min=0.0, help="how long an unreachable server is retried before giving up"
    ),
    backend_option: list[str] = typer.Option(
        [], help="KEY=VALUE for the backend, e.g. udid=... xctestrun=... for iphone"
    ),
) -> None:
    """Measure models for a codecnas server: register, lease jobs, post results."""
    from device_bench.agent import AgentOptions, run_agent
    from device_bench.agent_http import HttpJobBoard
    from device_bench.agent_protocol import BoardError, BoardUnavailable, describe_agent

    check_token(token)
    bench_backend = open_backend(backend, backend_options(backend_option, backend, threads))
    logging.getLogger("device_bench.agent").setLevel(logging.INFO)
    stop = threading.Event()
    description = describe_agent(bench_backend, name)
    console.print(
        f"codecnas agent {description.name!r}: {backend} {description.runtime_version} on "
        f"{description.device} ({description.device_model}), server {server}"
    )
    options = AgentOptions(
        lease_seconds=lease_seconds,
        warmup=warmup,
        runs=runs,
        cache_dir=cache_dir,
        retry_seconds=retry_seconds,
        idle_min_seconds=min(0.2, poll_seconds),
        idle_max_seconds=poll_seconds,
    )
    with HttpJobBoard(server, token) as board, _stop_on_signals(stop):
        try:
            summary = run_agent(
                board,
                bench_backend,
                description=description,
                options=options,
                max_jobs=max_jobs,
                idle_exit=idle_exit,
                stop_event=stop,
            )
        except BoardUnavailable as error:
            console.print(f"[red]codecnas agent: gave up on an unreachable server: {error}[/]")
            raise typer.Exit(code=1) from error
        except BoardError as error:
            console.print(f"[red]codecnas agent: the server refused: {error}[/]")
            raise typer.Exit(code=1) from error
    console.print(
        f"agent {summary.agent_id} done: {summary.measured} measured, {summary.failed} failed, "
        f"{summary.lost} lost leases"
    )
