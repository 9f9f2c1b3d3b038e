"""A codec folder whose weights file carries code: loading refuses it, the code never runs
(torch.load(weights_only=True) in search_spaces/model_dir.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from search_spaces import get_space
from search_spaces.model_dir import CONFIG_FILE, WEIGHTS_FILE, load_codec


class _Payload:
    """Unpickling this calls Path.touch(marker): the stand-in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def test_weights_with_code_are_refused_and_the_code_never_runs(tmp_path: Path) -> None:
    space = get_space("basic")
    config = space.sample(np.random.default_rng(0))
    doc = {"space": "basic", "config": config, "config_hash": space.hash(config)}
    (tmp_path / CONFIG_FILE).write_text(json.dumps(doc))
    marker = tmp_path / "code-ran"
    torch.save({"weight": _Payload(marker)}, tmp_path / WEIGHTS_FILE)
    with pytest.raises(Exception, match="Weights only load failed"):
        load_codec(tmp_path)
    assert not marker.exists(), "unpickling the weights ran code"
