"""Describe the device a benchmark runs on, with a short name stable across runs and reboots."""

from __future__ import annotations

import functools
import os
import platform
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_CPUINFO = Path("/proc/cpuinfo")
# /proc/cpuinfo keys naming the CPU: x86 uses "model name"; ARM boards use the others.
_CPUINFO_MODEL_KEYS = ("model name", "Hardware", "Model", "Processor", "cpu model")
# Words that make model strings long without telling CPUs apart.
_NOISE = re.compile(r"\((r|tm|c)\)|\bcpu\b|\bprocessor\b|\b\d+-core\b|@.*$", re.IGNORECASE)
_MAX_SLUG_CHARS = 40


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # e.g. "linux-x86_64-amd-epyc"; the key benchmark results are stored under
    cpu_model: str
    os: str  # e.g. "Linux 6.8.0"
    machine: str  # e.g. "x86_64", "arm64"
    logical_cores: int
    usable_cores: int  # cores this process may run on (affinity / container limits)


def slugify(text: str) -> str:
    """Lower-case, dash-separated, without trademarks, clock speed or filler words."""
    cleaned = _NOISE.sub(" ", text).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", cleaned).strip("-")
    return slug[:_MAX_SLUG_CHARS].rstrip("-") or "unknown"


def cpu_model_from_cpuinfo(cpuinfo: str) -> str | None:
    """The CPU model named in the text of /proc/cpuinfo, or None when it names none."""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and value.strip():
            fields.setdefault(key.strip(), value.strip())
    for key in _CPUINFO_MODEL_KEYS:
        # ARM's "Processor" is sometimes a bare index ("0"), which names nothing.
        if key in fields and not fields[key].isdigit():
            return fields[key]
    return None


def _cpu_model() -> str:
    if _CPUINFO.is_file():
        model = cpu_model_from_cpuinfo(_CPUINFO.read_text(errors="replace"))
        if model:
            return model
    if platform.system() == "Darwin":
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True,
                text=True,
                check=True,
                timeout=5,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown"


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@functools.cache
def describe_device() -> DeviceInfo:
    """This machine's description (computed once per process)."""
    cpu_model = _cpu_model()
    system = platform.system() or "unknown"
    machine = platform.machine() or "unknown"
    return DeviceInfo(
        name=f"{slugify(system)}-{machine.lower()}-{slugify(cpu_model)}",
        cpu_model=cpu_model,
        os=f"{system} {platform.release()}".strip(),
        machine=machine,
        logical_cores=os.cpu_count() or 1,
        usable_cores=_usable_cores(),
    )
