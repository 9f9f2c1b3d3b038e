"""A codec as files: `config.json` (space, config, hash) and `model.pt` (weights).

`codecnas best --export` writes such a folder; `codecnas codec encode/decode` loads it again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search_spaces.registry import get_space

if TYPE_CHECKING:
    from codec.model import LearnedCodec

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.pt"


class ModelDirError(ValueError):
    """A model folder is missing a file, or its files do not belong together."""


def read_config(model_dir: Path) -> dict[str, Any]:
    path = Path(model_dir) / CONFIG_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelDirError(
            f"{model_dir}: no {CONFIG_FILE} (is this an exported codec folder?)"
        ) from None
    except json.JSONDecodeError as exc:
        raise ModelDirError(f"{path}: not valid JSON: {exc}") from None
    for key in ("space", "config", "config_hash"):
        if key not in doc:
            raise ModelDirError(f"{path}: missing key {key!r}")
    return dict(doc)


def load_codec(model_dir: Path) -> LearnedCodec:
    """Build the codec from its config and load its weights, ready to compress and decompress."""
    doc = read_config(model_dir)
    space = get_space(doc["space"])
    if space.hash(doc["config"]) != doc["config_hash"]:
        raise ModelDirError(
            f"{model_dir}: config_hash {doc['config_hash'][:12]}… does not match the config "
            f"(hash {space.hash(doc['config'])[:12]}…)"
        )
    model = space.build(doc["config"])
    weights = Path(model_dir) / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelDirError(f"{model_dir}: no {WEIGHTS_FILE}")
    # weights_only: a weights file is data, never code to run.
    import torch  # here: reading a config must not load torch

    state = torch.load(weights, map_location="cpu", weights_only=True)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelDirError(f"{weights}: weights do not fit the config: {exc}") from None
    model.eval()
    model.prepare_for_coding()
    return model
