"""A real exported codec folder and odd image files for the CLI tests."""

from __future__ import annotations

import json
from pathlib import Path

import imagecodecs
import numpy as np
import torch
from PIL import Image

from search_spaces.model_dir import CONFIG_FILE, WEIGHTS_FILE
from search_spaces.registry import get_space

TINY_CONFIG = {
    "channels": 16,
    "stages": 2,
    "block": "conv",
    "activation": "relu",
    "latent_channels": 32,
    "hyperprior": True,
}


def write_model_dir(folder: Path, seed: int = 0) -> Path:
    """An untrained but real `basic` codec, saved as `codecnas best --export` saves one."""
    space = get_space("basic")
    config = space.validate(dict(TINY_CONFIG))
    torch.manual_seed(seed)
    model = space.build(config)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / WEIGHTS_FILE)
    document = {"space": "basic", "config": config, "config_hash": space.hash(config)}
    (folder / CONFIG_FILE).write_text(json.dumps(document))
    return folder


def photo(height: int = 40, width: int = 56, seed: int = 0) -> np.ndarray:
    """Smooth random colours: a photo-like uint8 (H, W, 3) array."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // 8 + 2, width // 8 + 2, 3)).astype(np.uint8)
    resized = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(resized).copy()


def write_odd_images(folder: Path) -> dict[str, Path]:
    """PNG/JPEG files in every mode the CLI must accept, plus files it must reject."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = photo()
    paths = {
        "rgb": folder / "rgb.png",
        "odd_size": folder / "odd.jpg",
        "grey": folder / "grey.png",
        "rgba": folder / "rgba.png",
        "grey16": folder / "grey16.png",
        "rgb16": folder / "rgb16.png",
        "text": folder / "notes.png",
    }
    Image.fromarray(rgb).save(paths["rgb"])
    Image.fromarray(photo(37, 23, seed=1)).save(paths["odd_size"], quality=90)
    Image.fromarray(rgb[:, :, 0]).save(paths["grey"])
    alpha = np.full((*rgb.shape[:2], 1), 128, np.uint8)
    Image.fromarray(np.concatenate([rgb, alpha], axis=2), mode="RGBA").save(paths["rgba"])
    Image.fromarray(rgb[:, :, 1].astype(np.uint16) * 257).save(paths["grey16"])
    paths["rgb16"].write_bytes(imagecodecs.png_encode(rgb.astype(np.uint16) * 257))
    paths["text"].write_text("this is not an image\n")
    return paths
