"""`codecnas codec encode|decode`: use an exported codec on real image files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import typer
from PIL import Image, UnidentifiedImageError
from rich.console import Console

from search_spaces.model_dir import load_codec

app = typer.Typer(help="Compress and decompress images with an exported codec.", no_args_is_help=True)
console = Console()


def _read_rgb(path: Path) -> torch.Tensor:
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA"):
                console.print(f"[yellow]warning:[/] {path}: alpha channel dropped")
            if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                # 16-bit greyscale: scale to 8 bits before conversion, which would clip.
                arr16 = np.asarray(img, dtype=np.float64)
                img = Image.fromarray((arr16 / max(arr16.max(), 1) * 255).round().astype(np.uint8))
            rgb = np.asarray(img.convert("RGB"))
    except FileNotFoundError:
        raise typer.BadParameter(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise typer.BadParameter(f"{path}: not a readable image ({exc})") from None
    return torch.from_numpy(rgb.copy()).permute(2, 0, 1).float().div(255).unsqueeze(0)


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
    pixels = x_hat[0].permute(1, 2, 0).mul(255).round().clamp(0, 255).byte().numpy()
    Image.fromarray(pixels).save(output)
    console.print(f"{bitstream} -> {output}: {pixels.shape[1]}x{pixels.shape[0]}")
