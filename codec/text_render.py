"""Text drawn onto images, with masks of where it lies: training data for TextFidelityLoss.

No text detector can be downloaded here, so the text regions are known because we draw them:
one to three short lines per image, in fonts found on the machine (DejaVu from Debian's
fonts-dejavu-core when installed) or Pillow's bundled scalable font, at sizes of 8..40 px, in a
colour that contrasts with the background, and half of them rotated by up to 30 degrees. The mask
of a line is its rotated bounding box padded by two pixels, as a detector would report it, so the
halo a codec leaves around glyphs counts as part of the text region.
"""

from __future__ import annotations

import math
import random
import string
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

FONT_FOLDERS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts/opentype"))
MIN_SIZE, MAX_SIZE = 8, 40
MAX_ANGLE = 30.0
_BOX_PADDING = 2
_ALPHABET = string.ascii_letters + string.digits + "  .,:-%€$&@#"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def font_files() -> tuple[Path, ...]:
    """TrueType / OpenType fonts installed on the machine (may be empty)."""
    found = [
        path
        for folder in FONT_FOLDERS
        if folder.is_dir()
        for path in sorted(folder.rglob("*"))
        if path.suffix.lower() in {".ttf", ".otf"}
    ]
    return tuple(found)


@lru_cache(maxsize=256)
def _font(path: str | None, size: int) -> Font:
    if path is None:
        return ImageFont.load_default(size=size)  # Pillow's bundled font: always available
    return ImageFont.truetype(path, size)


def _contrasting_colour(rng: random.Random, background: np.ndarray) -> tuple[int, int, int]:
    """A random colour whose luminance is far from the background's mean."""
    luminance = float(np.mean(background)) if background.size else 128.0
    low, high = (0, 90) if luminance > 128 else (165, 255)
    return (rng.randint(low, high), rng.randint(low, high), rng.randint(low, high))


class TextRenderer:
    """Draws random text lines on uint8 RGB images, reproducibly from a seed."""

    def __init__(self, seed: int, fonts: tuple[Path, ...] | None = None) -> None:
        self._rng = random.Random(seed)
        files = font_files() if fonts is None else fonts
        self._fonts: list[str | None] = [str(f) for f in files] or [None]

    def _line(self) -> str:
        length = self._rng.randint(3, 14)
        return "".join(self._rng.choice(_ALPHABET) for _ in range(length)).strip() or "Text"

    def _draw_line(self, canvas: Image.Image, mask: np.ndarray) -> None:
        rng = self._rng
        width, height = canvas.size
        size = rng.randint(MIN_SIZE, min(MAX_SIZE, max(MIN_SIZE, height // 2)))
        font = _font(rng.choice(self._fonts), size)
        text = self._line()
        bbox = ImageDraw.Draw(canvas).textbbox((0, 0), text, font=font)
        left, top, right, bottom = (math.floor(v) for v in bbox)
        pad = _BOX_PADDING
        box_w, box_h = right - left + 2 * pad + 1, bottom - top + 2 * pad + 1
        ink = Image.new("L", (box_w, box_h), 0)
        ImageDraw.Draw(ink).text((pad - left, pad - top), text, fill=255, font=font)
        box = Image.new("L", (box_w, box_h), 255)
        if rng.random() < 0.5:
            angle = rng.uniform(-MAX_ANGLE, MAX_ANGLE)
            ink = ink.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
            box = box.rotate(angle, resample=Image.Resampling.NEAREST, expand=True)
        # anywhere, as long as at least half of the line's box lies on the image
        x = rng.randint(-ink.width // 4, max(-ink.width // 4, width - 3 * ink.width // 4))
        y = rng.randint(-ink.height // 4, max(-ink.height // 4, height - 3 * ink.height // 4))
        region = np.asarray(canvas)[max(y, 0) : y + ink.height, max(x, 0) : x + ink.width]
        colour = _contrasting_colour(rng, region)
        canvas.paste(Image.new("RGB", ink.size, colour), (x, y), ink)
        box_layer = Image.new("L", canvas.size, 0)
        box_layer.paste(box, (x, y))
        mask |= np.asarray(box_layer) > 0

    def render(self, pixels: np.ndarray, lines: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(pixels with text, bool (H, W) mask of the text regions); the input is not changed."""
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError(
                f"render expects uint8 (H, W, 3) pixels, got {pixels.dtype} {pixels.shape}"
            )
        canvas = Image.fromarray(np.ascontiguousarray(pixels))
        mask = np.zeros(pixels.shape[:2], dtype=bool)
        for _ in range(self._rng.randint(1, 3) if lines is None else lines):
            self._draw_line(canvas, mask)
        return np.asarray(canvas).copy(), mask

    def overlay_batch(
        self, batch: torch.Tensor, fraction: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Text on a random `fraction` of a (B, 3, H, W) [0, 1] batch, and (B, 1, H, W) masks."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"text fraction must be in [0, 1], got {fraction}")
        images, masks = [], []
        for image in batch:
            pixels = (image.permute(1, 2, 0) * 255.0).round().to(torch.uint8).numpy()
            mask = np.zeros(pixels.shape[:2], dtype=bool)
            if self._rng.random() < fraction:
                pixels, mask = self.render(pixels)
            images.append(torch.from_numpy(pixels).permute(2, 0, 1))
            masks.append(torch.from_numpy(mask)[None])
        return torch.stack(images).float() / 255.0, torch.stack(masks).float()
