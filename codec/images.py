"""Image sources for training and evaluation, and random training crops.

Every image becomes a `NamedImage`: 8-bit RGB pixels (H, W, 3) and a name. Sources are either a
folder of image files or scikit-image's bundled colour sample photos
(``"skimage:astronaut,coffee"``), so a fresh clone without any data folder still has something to
train and evaluate on.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

SKIMAGE_PREFIX = "skimage:"

# Colour photos shipped inside the scikit-image wheel (skimage/data/); the other samples are
# greyscale, synthetic, or fetched from the network on first use, which a worker cannot rely on.
SKIMAGE_COLOUR_SAMPLES: dict[str, str] = {
    "astronaut": "astronaut.png",
    "coffee": "coffee.png",
    "chelsea": "chelsea.png",
    "rocket": "rocket.jpg",
    "motorcycle_left": "motorcycle_left.png",
    "motorcycle_right": "motorcycle_right.png",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "retina": "retina.jpg",
    "immunohistochemistry": "ihc.png",
    "ihc": "ihc.png",
}


# Images larger than this are refused from their header, before any pixel is decoded: a 100 MP
# RGB image is 300 MB of uint8 (and 1.2 GB as a float tensor). Pillow's own decompression-bomb
# check only warns below 179 MP.
MAX_IMAGE_PIXELS = 100_000_000


class ImageSourceError(ValueError):
    """An image source (folder or skimage list) gives no usable image or is malformed."""


@dataclass(frozen=True, eq=False)
class NamedImage:
    """An 8-bit RGB image with the name it is reported under."""

    name: str
    pixels: np.ndarray  # uint8, (H, W, 3)

    def __post_init__(self) -> None:
        p = self.pixels
        if p.dtype != np.uint8 or p.ndim != 3 or p.shape[2] != 3:
            raise ValueError(
                f"image {self.name!r}: pixels must be uint8 (H, W, 3), got {p.dtype} {p.shape}"
            )
        if p.shape[0] < 1 or p.shape[1] < 1:
            raise ValueError(f"image {self.name!r}: empty pixel array {p.shape}")

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


def image_hash(pixels: np.ndarray) -> str:
    """Content hash of a pixel array: sha256 over dtype, shape and the raw bytes."""
    contiguous = np.ascontiguousarray(pixels)
    digest = hashlib.sha256()
    digest.update(f"{contiguous.dtype.str}{contiguous.shape}".encode())
    digest.update(contiguous.tobytes())
    return digest.hexdigest()


def to_tensor(pixels: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> float32 (1, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None].float() / 255.0


def to_pixels(tensor: torch.Tensor) -> np.ndarray:
    """float (1, 3, H, W) in [0, 1] -> uint8 (H, W, 3), rounded: what a decoder writes to a file."""
    if tensor.ndim != 4 or tensor.shape[0] != 1 or tensor.shape[1] != 3:
        raise ValueError(f"expected a (1, 3, H, W) tensor, got shape {tuple(tensor.shape)}")
    scaled = (tensor.detach()[0].clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    return scaled.permute(1, 2, 0).cpu().numpy()


def _pil_to_rgb8(image: Image.Image) -> np.ndarray:
    """Any Pillow mode -> uint8 RGB. 16-bit greyscale is scaled (Pillow's convert would clip)."""
    if image.mode.startswith("I"):  # "I;16", "I;16B", "I" (32-bit int, treated as 16-bit range)
        values = np.asarray(image).astype(np.float64)
        grey = np.clip(np.round(np.clip(values, 0, 65535) / 257.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode == "F":
        raise ValueError("floating-point image mode 'F' has no defined 8-bit range")
    # Pillow reads 16-bit RGB(A) PNGs as 8-bit already (high byte); alpha is dropped here.
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


@dataclass(frozen=True)
class ImageFile:
    """The pixels of an image file, and what was left out to get them."""

    pixels: np.ndarray  # uint8 (H, W, 3)
    had_alpha: bool  # an alpha channel (or transparency) was dropped
    frames: int  # frames in the file; only the first is read


def read_image_file(path: Path, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode one image file to uint8 RGB, applying its EXIF orientation.

    ValueError for an image over ``max_pixels`` (checked from the header, nothing is decoded).
    """
    return open_image_file(path, max_pixels).pixels


def open_image_file(path: Path, max_pixels: int = MAX_IMAGE_PIXELS) -> ImageFile:
    """As read_image_file, also saying whether alpha was dropped and how many frames there were.

    ValueError (naming the size) for an image over ``max_pixels``, however large its header
    claims to be: Pillow's own decompression-bomb error from 179 MP is turned into the same one.
    """
    with warnings.catch_warnings():
        # Our own limit below decides; Pillow's warning (from 89 MP) would be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            opened = Image.open(path)
        except Image.DecompressionBombError as error:
            raise ValueError(f"over the limit of {max_pixels:,} pixels ({error})") from None
    with opened:
        if opened.width * opened.height > max_pixels:
            raise ValueError(
                f"{opened.width}x{opened.height} is over the limit of {max_pixels:,} pixels"
            )
        opened.load()  # decode now, so truncated files fail here and not later
        had_alpha = opened.has_transparency_data
        frames = int(getattr(opened, "n_frames", 1))
        oriented = ImageOps.exif_transpose(opened)
        return ImageFile(_pil_to_rgb8(oriented), had_alpha, frames)


def _unique_names(paths: list[Path]) -> list[str]:
    """Names are file stems; files sharing a stem (a.png, a.jpg) keep their full file name."""
    stems = [p.stem for p in paths]
    return [p.stem if stems.count(p.stem) == 1 else p.name for p in paths]


def _load_folder(folder: Path, min_side: int) -> list[NamedImage]:
    if not folder.is_dir():
        raise ImageSourceError(f"image folder {str(folder)!r} does not exist or is not a folder")
    files = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.name)
    images: list[NamedImage] = []
    skipped: list[str] = []
    for path, name in zip(files, _unique_names(files), strict=True):
        try:
            pixels = read_image_file(path)
        except (
            OSError,
            UnidentifiedImageError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ) as error:
            skipped.append(f"{path.name} ({error or type(error).__name__})")
            continue
        if min(pixels.shape[:2]) < min_side:
            height, width = pixels.shape[:2]
            skipped.append(f"{path.name} ({width}x{height}: sides under {min_side} px)")
            continue
        images.append(NamedImage(name, pixels))
    if skipped:
        # One warning for the folder, naming every file left out and why.
        warnings.warn(
            f"skipped {len(skipped)} file(s) of image folder {str(folder)!r} that are not "
            f"usable images: {'; '.join(skipped)}",
            stacklevel=3,
        )
    if not images:
        detail = f" (skipped: {'; '.join(skipped)})" if skipped else " (folder is empty)"
        raise ImageSourceError(f"no usable image in folder {str(folder)!r}{detail}")
    return images


def _skimage_data_dir() -> Path:
    import skimage.data  # imported lazily: only this source needs it

    return Path(skimage.data.__file__).parent


def _load_skimage(names_text: str) -> list[NamedImage]:
    names = [n.strip() for n in names_text.split(",") if n.strip()]
    if not names:
        raise ImageSourceError(
            f"'skimage:' source lists no image; valid names: {', '.join(SKIMAGE_COLOUR_SAMPLES)}"
        )
    unknown = [n for n in names if n not in SKIMAGE_COLOUR_SAMPLES]
    if unknown:
        raise ImageSourceError(
            f"unknown skimage sample(s) {', '.join(map(repr, unknown))}; "
            f"valid names: {', '.join(SKIMAGE_COLOUR_SAMPLES)}"
        )
    if len(set(names)) != len(names):
        raise ImageSourceError(f"skimage source repeats a name: {names_text!r}")
    data_dir = _skimage_data_dir()
    images = []
    for name in names:
        path = data_dir / SKIMAGE_COLOUR_SAMPLES[name]
        if not path.is_file():
            raise ImageSourceError(f"skimage sample {name!r} is not bundled at {str(path)!r}")
        images.append(NamedImage(name, read_image_file(path)))
    return images


def load_images(source: str, min_side: int = 1) -> list[NamedImage]:
    """Load images from a folder path or from ``"skimage:NAME,NAME,..."``.

    A folder is read non-recursively, files sorted by name; greyscale becomes RGB, alpha is dropped,
    16-bit is scaled to 8-bit. Files that are not readable images, or whose shorter side is under
    `min_side` pixels, are skipped with a warning naming each one; `ImageSourceError` if the
    folder is missing or yields no image.
    """
    if source.startswith(SKIMAGE_PREFIX):
        return _load_skimage(source[len(SKIMAGE_PREFIX) :])
    return _load_folder(Path(source).expanduser(), min_side)


class RandomCrops:
    """Batches of random square crops with random horizontal flips, reproducible from a seed.

    Each crop picks an image uniformly, then a uniform position inside it. An image side shorter
    than the crop is mirror-padded (numpy "symmetric") at the bottom/right up to the crop size, so
    small images are used rather than skipped.
    """

    def __init__(self, images: Sequence[NamedImage], crop_size: int, seed: int) -> None:
        if not images:
            raise ValueError("RandomCrops needs at least one image, got none")
        if crop_size < 1:
            raise ValueError(f"crop_size must be >= 1, got {crop_size}")
        self.crop_size = crop_size
        self._generator = torch.Generator().manual_seed(seed)
        self._images = [self._as_padded_tensor(image.pixels, crop_size) for image in images]

    @staticmethod
    def _as_padded_tensor(pixels: np.ndarray, crop_size: int) -> torch.Tensor:
        pad_h = max(0, crop_size - pixels.shape[0])
        pad_w = max(0, crop_size - pixels.shape[1])
        if pad_h or pad_w:
            pixels = np.pad(pixels, ((0, pad_h), (0, pad_w), (0, 0)), mode="symmetric")
        # uint8 (3, H, W): a quarter of the memory of float, converted per batch
        return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1).contiguous()

    def _randint(self, high: int) -> int:
        return int(torch.randint(high, (1,), generator=self._generator).item())

    def next_batch(self, batch_size: int) -> torch.Tensor:
        """A float32 batch (batch_size, 3, S, S) with values in [0, 1]."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        size = self.crop_size
        crops = []
        for _ in range(batch_size):
            image = self._images[self._randint(len(self._images))]
            top = self._randint(image.shape[1] - size + 1)
            left = self._randint(image.shape[2] - size + 1)
            crop = image[:, top : top + size, left : left + size]
            if self._randint(2):
                crop = crop.flip(-1)
            crops.append(crop)
        return torch.stack(crops).float() / 255.0
