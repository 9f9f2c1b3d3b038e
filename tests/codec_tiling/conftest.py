"""Fixtures of the tiling tests: one torch thread, and a small codec with real latents."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from codec import CodecArchitecture, LearnedCodec, build_codec
from codec.images import load_images
from codec.training import TrainingConfig, train


@pytest.fixture(autouse=True, scope="package")
def single_torch_thread() -> Iterator[None]:
    # Other test areas run at the same time on two cores.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="package")
def model(single_torch_thread: None) -> LearnedCodec:
    """A hyperprior codec trained a few steps (a poor codec, ~3 s): an untrained one rounds
    nearly every latent to 0, which would make tiles alike and the coding trivial."""
    torch.manual_seed(0)
    architecture = CodecArchitecture(8, 12, 2, "conv", "relu", hyperprior=True)
    codec = build_codec(architecture, model_id=b"tiling-tests-001")
    config = TrainingConfig(steps=40, batch_size=4, crop_size=32, learning_rate=1e-2, lmbda=0.1)
    train(codec, load_images("skimage:coffee"), config)
    return codec


@pytest.fixture(scope="package")
def astronaut() -> np.ndarray:
    return load_images("skimage:astronaut")[0].pixels  # 512 x 512


def photo(height: int, width: int) -> np.ndarray:
    """A uint8 (H, W, 3) image of any size: the astronaut photo repeated to cover it."""
    pixels = load_images("skimage:astronaut")[0].pixels
    reps = (-(-height // pixels.shape[0]), -(-width // pixels.shape[1]), 1)
    return np.ascontiguousarray(np.tile(pixels, reps)[:height, :width])
