"""Shared fixtures: a demo-shaped spec made tiny, and a SQLite store in a temp folder."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DEMO_SPEC = REPO / "codecnas" / "examples" / "demo.yaml"

# Tests must not use the user's ~/.codecnas or a developer's database.
os.environ.pop("CODECNAS_DATABASE_URL", None)


def tiny_spec(**overrides: Any) -> dict[str, Any]:
    """The demo spec shrunk to seconds per trial: basic space, tiny crops, a handful of steps."""
    spec = yaml.safe_load(DEMO_SPEC.read_text())
    spec["name"] = "tiny"
    spec["budget"] = {"trials": 3, "parallel": 2, "max_attempts": 2}
    spec["training"].update(steps=6, batch_size=2, crop_size=32)
    # The demo's trials start from the shipped pico reference codec; tiny `basic` ones start
    # from the campaign's own trials (the default).
    for key in ("init", "warmup_steps"):
        spec["training"].pop(key, None)
    spec["data"] = {"train": "skimage:coffee", "eval": "skimage:chelsea"}
    spec["benchmark"] = {"backend": "onnxruntime", "tile": 64, "warmup": 1, "runs": 2}
    spec["sampler"] = {"kind": "random", "seed": 0}
    # The small `basic` space keeps orchestration tests fast; pico campaigns have their own tests.
    spec["space"] = "basic"
    spec["screen"] = {}
    spec["fixed"] = {}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = copy.deepcopy(value)
    return spec


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'codecnas.sqlite'}"


@pytest.fixture
def store(tmp_path: Path, sqlite_url: str):
    from nas.storage.repository import CampaignStore

    s = CampaignStore(sqlite_url, tmp_path / "artifacts")
    yield s
    s.close()
