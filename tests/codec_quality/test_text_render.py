"""Rendered text and its masks: reproducible, where the pixels changed, every font usable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codec.images import load_images
from codec.text_render import TextRenderer, font_files


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_images("skimage:coffee")[0].pixels[:128, :160].copy()


def test_text_lies_inside_its_mask(photo: np.ndarray) -> None:
    drawn, mask = TextRenderer(seed=3).render(photo, lines=3)
    changed = np.any(drawn != photo, axis=2)
    assert changed.any() and mask.any()
    assert not (changed & ~mask).any()  # no ink outside the boxes
    assert 0.005 < mask.mean() < 0.8


def test_same_seed_same_text(photo: np.ndarray) -> None:
    first = TextRenderer(seed=7).render(photo)
    second = TextRenderer(seed=7).render(photo)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert not np.array_equal(first[0], TextRenderer(seed=8).render(photo)[0])


def test_without_installed_fonts_pillow_default_font_is_used(photo: np.ndarray) -> None:
    drawn, mask = TextRenderer(seed=1, fonts=()).render(photo, lines=2)
    assert mask.any() and np.any(drawn != photo)


def test_installed_fonts_are_found() -> None:
    fonts = font_files()
    assert all(path.suffix.lower() in {".ttf", ".otf"} for path in fonts)


def test_overlay_batch_marks_a_fraction_of_the_crops() -> None:
    batch = torch.rand(16, 3, 48, 48)
    images, masks = TextRenderer(seed=0).overlay_batch(batch, fraction=0.5)
    assert images.shape == batch.shape and masks.shape == (16, 1, 48, 48)
    with_text = masks.flatten(1).amax(1) > 0
    assert 2 <= int(with_text.sum()) <= 14
    untouched = ~with_text
    assert torch.allclose(images[untouched], batch[untouched], atol=0.5 / 255)
    with pytest.raises(ValueError, match="1.5"):
        TextRenderer(seed=0).overlay_batch(batch, fraction=1.5)
