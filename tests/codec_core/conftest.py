"""Fixtures of the codec core tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    # Other engineers test on the same 2 cores.
    torch.set_num_threads(1)
