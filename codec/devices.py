"""Which device training runs on, and the mixed precision that suits it.

`training.device` in a campaign spec is one of DEVICE_NAMES; "auto" takes the best device
present (CUDA, then Apple's MPS, then the CPU), so one spec runs on a laptop, a CPU Ray worker
and a GPU node alike. The codec's coding path (integer tables, the entropy coder) always runs
on the CPU: training hands the model back there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

DEVICE_NAMES = ("auto", "cpu", "cuda", "mps")


def check_device_name(name: str) -> None:
    if name not in DEVICE_NAMES:
        raise ValueError(f"training device must be one of {DEVICE_NAMES}, got {name!r}")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str) -> torch.device:
    """The torch device for a spec's name; an unavailable accelerator is an error naming it."""
    check_device_name(name)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("training device 'cuda' asked for, but torch sees no CUDA device")
    if name == "mps" and not _mps_available():
        raise ValueError("training device 'mps' asked for, but torch sees no MPS device")
    return torch.device(name)


@contextlib.contextmanager
def autocast_for(device: torch.device, enabled: bool) -> Iterator[None]:
    """bfloat16 autocast on CUDA (where it about doubles conv throughput); nothing elsewhere:
    CPU autocast is slower for these small convs, MPS bfloat16 support varies."""
    if enabled and device.type == "cuda":
        with torch.autocast("cuda", dtype=torch.bfloat16):
            yield
    else:
        yield
