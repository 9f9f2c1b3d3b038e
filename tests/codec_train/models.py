"""Tiny real codecs and photo crops shared by the training and evaluation tests."""

from __future__ import annotations

import torch

from codec import CodecArchitecture, LearnedCodec, build_codec
from codec.images import NamedImage, load_images


def tiny_codec(hyperprior: bool, seed: int = 0) -> LearnedCodec:
    torch.manual_seed(seed)
    architecture = CodecArchitecture(
        channels=16,
        latent_channels=16,
        stages=2,
        block="conv",
        activation="relu",
        hyperprior=hyperprior,
    )
    return build_codec(architecture)


def photo_crops() -> list[NamedImage]:
    """Two small crops of different photos, one of an odd size."""
    coffee, chelsea = load_images("skimage:coffee,chelsea")
    return [
        NamedImage("coffee", coffee.pixels[100:228, 200:392].copy()),
        NamedImage("chelsea", chelsea.pixels[60:97, 150:203].copy()),
    ]  # 37 x 53
