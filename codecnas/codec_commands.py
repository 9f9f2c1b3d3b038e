"""`codecnas codec encode|decode`: use an exported codec on real image files."""

from __future__ import annotations

from pathlib import Path

import torch
import typer
from PIL import Image, UnidentifiedImageError
from rich.console import Console

from codec.images import read_image_file, to_pixels, to_tensor
from search_spaces.model_dir import load_codec

app = typer.Typer(
    help="Compress and decompress images with an exported codec.", no_args_is_help=True
)
console = Console()


def _read_rgb(path: Path) -> torch.Tensor:
    """Any image file as a (1,3,H,W) tensor; alpha is dropped with a warning, 16-bit scaled."""
    try:
        with Image.open(path) as probe:
            if "A" in probe.getbands():
                console.print(f"[yellow]warning:[/] {path}: alpha channel dropped")
        pixels = read_image_file(path)
    except FileNotFoundError:
        raise typer.BadParameter(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise typer.BadParameter(f"{path}: not a readable image ({exc})") from None
    return to_tensor(pixels)


@app.command("encode")
def encode(model_dir: Path, image: Path, output: Path) -> None:
    """Compress IMAGE into the bitstream file OUTPUT."""
    model = load_codec(model_dir)
    x = _read_rgb(image)
    with torch.no_grad():
        data = model.compress(x)
    output.write_bytes(data)
    h, w = x.shape[-2:]
    console.print(f"{image} -> {output}: {len(data)} bytes, {len(data) * 8 / (h * w):.4f} bpp")


@app.command("decode")
def decode(model_dir: Path, bitstream: Path, output: Path) -> None:
    """Decompress the bitstream BITSTREAM into the PNG OUTPUT."""
    model = load_codec(model_dir)
    with torch.no_grad():
        x_hat = model.decompress(bitstream.read_bytes())
    pixels = to_pixels(x_hat)
    Image.fromarray(pixels).save(output)
    console.print(f"{bitstream} -> {output}: {pixels.shape[1]}x{pixels.shape[0]}")
