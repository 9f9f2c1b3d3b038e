"""A model folder (config.json + model.pt) trained for a few steps, as an init source in tests."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from codec.images import load_images
from codec.training import TrainingConfig, train
from search_spaces import get_space

BASIC_CONFIG = {
    "channels": 16,
    "stages": 2,
    "block": "residual",
    "activation": "relu",
    "latent_channels": 32,
    "hyperprior": True,
}


def write_model_dir(folder: Path, config: dict | None = None, steps: int = 3) -> Path:
    space = get_space("basic")
    config = dict(BASIC_CONFIG if config is None else config)
    torch.manual_seed(0)
    model = space.build(config)
    settings = TrainingConfig(
        steps=steps, batch_size=2, crop_size=32, learning_rate=1e-3, lmbda=0.01
    )
    train(model, load_images("skimage:coffee"), settings)
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"space": space.name, "config": config, "config_hash": space.hash(config)}
    (folder / "config.json").write_text(json.dumps(doc))
    torch.save(model.state_dict(), folder / "model.pt")
    return folder
