"""`codecnas codec encode|decode|eval`: use an exported codec on real image files.

Inputs are PNG or JPEG (anything Pillow reads) of any size: greyscale becomes RGB, 16-bit is
scaled to 8 bits, an alpha channel is dropped with a warning. A file that is missing or is not an
image, a model folder that does not load, or a bitstream the model cannot decode ends the command
with exit code 2 and a message that names the file.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import typer
from PIL import Image, UnidentifiedImageError
from rich.console import Console

from codec.anchor_codecs import ANCHOR_NAMES, anchor_codec
from codec.errors import CodecError
from codec.metric_names import QUALITY_METRIC_NAMES
from codecnas.settings import Settings
from search_spaces.model_dir import ModelDirError, load_codec

# The modules that load torch are imported in the commands that run a codec: `codecnas --help`
# and every other command start without them.
if TYPE_CHECKING:
    from codec.images import NamedImage
    from codec.model import LearnedCodec
    from codecnas.codec_report import AnchorSummary

app = typer.Typer(
    help="Compress and decompress images with an exported codec, and evaluate it.",
    no_args_is_help=True,
)
console = Console()
# soft_wrap: an error naming a long path stays on one line (copyable, greppable).
errors = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> None:
    errors.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(code=2)


def _load_model(model_dir: Path) -> LearnedCodec:
    try:
        return load_codec(model_dir)
    except (ModelDirError, OSError, ValueError) as exc:
        _fail(f"{model_dir}: cannot load the codec ({exc})")
        raise  # unreachable: _fail raises


def _read_pixels(path: Path) -> np.ndarray:
    """uint8 (H, W, 3) pixels of an image file; exit 2 naming the file if it is not one."""
    from codec.images import open_image_file

    if path.is_dir():
        _fail(f"{path}: is a folder, not an image file (`codec eval` takes folders)")
    if not path.is_file():
        _fail(f"{path}: no such file")
    try:
        image = open_image_file(path)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        _fail(f"{path}: not a readable image ({exc})")
        raise  # unreachable
    if image.had_alpha:
        errors.print(f"[yellow]warning:[/] {path}: alpha channel dropped", highlight=False)
    if image.frames > 1:
        errors.print(
            f"[yellow]warning:[/] {path}: {image.frames} frames; only the first is coded",
            highlight=False,
        )
    return image.pixels


def _check_output(path: Path) -> None:
    """Exit 2 before any work when OUTPUT cannot be written where it is asked to go."""
    if path.is_dir():
        _fail(f"{path}: is a folder; give the file to write")
    if not path.parent.is_dir():
        _fail(f"{path}: its folder {str(path.parent)!r} does not exist")


@app.command("encode")
def encode(
    model_dir: Path,
    image: Path,
    output: Path,
    rate: str | None = typer.Option(
        None,
        "--rate",
        help="variable-rate models: a position (0 = lowest rate, e.g. 2.5), a size (0.5bpp) "
        "or a PSNR to reach (32dB); default: the top rate",
    ),
) -> None:
    """Compress IMAGE (PNG, JPEG, ...) into the bitstream file OUTPUT."""
    from codec.evaluation import coder_for
    from codec.rate_control import encode_at_rate, parse_rate

    try:
        target = None if rate is None else parse_rate(rate)
    except ValueError as exc:
        _fail(str(exc))
        raise  # unreachable

    pixels = _read_pixels(image)
    _check_output(output)
    model = _load_model(model_dir)

    def coders(position: float | None) -> tuple[Any, Any]:
        tiled = coder_for(model, position)
        return tiled.encode, tiled.decode

    try:
        choice = encode_at_rate(model, pixels, target, coders)
    except ValueError as exc:
        _fail(f"{model_dir}: {exc}")
        raise  # unreachable
    output.write_bytes(choice.data)
    h, w = pixels.shape[:2]
    where = "" if choice.position is None else f" at rate position {choice.position:.3f}"
    console.print(
        f"{image} -> {output}: {len(choice.data)} bytes, "
        f"{len(choice.data) * 8 / (h * w):.4f} bpp{where}"
    )
    if not choice.met:
        errors.print(
            f"[yellow]warning:[/] --rate {rate}: out of this model's range; closest rate used"
        )


@app.command("decode")
def decode(model_dir: Path, bitstream: Path, output: Path) -> None:
    """Decompress the bitstream BITSTREAM into the image OUTPUT (PNG unless named otherwise)."""
    if not bitstream.is_file():
        _fail(f"{bitstream}: no such file")
    _check_output(output)
    model = _load_model(model_dir)
    from codec.evaluation import coder_for

    try:
        pixels = coder_for(model).decode(bitstream.read_bytes())
    except (CodecError, ValueError) as exc:
        _fail(f"{bitstream}: cannot be decoded by {model_dir} ({exc})")
        raise  # unreachable
    image_format = None if output.suffix else "PNG"
    try:
        Image.fromarray(pixels).save(output, format=image_format)
    except (ValueError, OSError) as exc:
        _fail(f"{output}: cannot write the decoded image ({exc})")
    console.print(f"{bitstream} -> {output}: {pixels.shape[1]}x{pixels.shape[0]}")


def _parse_names(text: str, valid: tuple[str, ...], what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in valid]
    if unknown or not names:
        _fail(f"--{what}: unknown or empty {unknown or text!r}; choose from {', '.join(valid)}")
    return names


def _anchor_summaries(
    images: list[NamedImage], names: list[str], metric: str, cache_dir: Path
) -> list[AnchorSummary]:
    from codec.anchors import anchor_curve, mean_curve
    from codecnas.codec_report import AnchorSummary

    summaries = []
    for name in names:
        codec = anchor_codec(name)
        curves = [anchor_curve(i.pixels, codec, [metric], cache_dir) for i in images]
        summaries.append(AnchorSummary(name, codec.label, mean_curve(curves, metric)))
    return summaries


@app.command("eval")
def eval_command(
    model_dir: Path,
    folder: Path,
    out: Path = typer.Option(Path("codec-eval"), "--out", help="folder for the report"),
    metric: str = typer.Option("psnr", help="quality axis of the plot, ratios and BD-rates"),
    metrics: str = typer.Option(
        ",".join(QUALITY_METRIC_NAMES), help="metrics to measure per image"
    ),
    anchors: str = typer.Option(",".join(ANCHOR_NAMES), help="anchor codecs to compare with"),
    ratio_anchor: str = typer.Option("jpeg", help="anchor of the per-image bitrate ratio"),
) -> None:
    """Evaluate the codec on the images in FOLDER and write a report (table, CSV, plot, JSON)."""
    # matplotlib is imported by the report only: other commands start without it
    from codec.evaluation import EVAL_MIN_SIDE, ImageCoder, coder_for, evaluate, rate_positions
    from codec.images import ImageSourceError, load_images
    from codecnas.codec_report import RateResult, write_report

    measured = _parse_names(metrics, QUALITY_METRIC_NAMES, "metrics")
    _parse_names(metric, QUALITY_METRIC_NAMES, "metric")
    anchor_names = _parse_names(anchors, ANCHOR_NAMES, "anchors")
    _parse_names(ratio_anchor, ANCHOR_NAMES, "ratio-anchor")
    model = _load_model(model_dir)
    try:
        with warnings.catch_warnings(record=True) as skipped:
            warnings.simplefilter("always")
            images = load_images(str(folder), EVAL_MIN_SIDE)
    except ImageSourceError as exc:
        _fail(str(exc))
        raise  # unreachable
    for warning in skipped:
        errors.print(f"[yellow]warning:[/] {warning.message}", highlight=False)
    cache = Settings.from_env().anchor_cache
    results = []
    for rate in rate_positions(model):
        coder: ImageCoder = coder_for(model, rate)
        console.print(
            f"evaluating {len(images)} images at rate {rate if rate is not None else 'fixed'}"
        )
        report = evaluate(coder, images, metric, cache, anchor=ratio_anchor, metrics=measured)
        results.append(RateResult(rate, report))
    console.print(f"anchor curves: {', '.join(anchor_names)} (cached in {cache})")
    summaries = _anchor_summaries(images, anchor_names, metric, cache)
    paths = write_report(out, model_dir.name or str(model_dir), results, summaries, metric)
    for kind, path in paths.items():
        console.print(f"{kind}: {path}")
