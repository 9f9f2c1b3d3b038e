"""Export a codec part to a Core ML `.mlpackage` (ML program), on any OS.

DESIGN.md: convert the `torch.export` program (`ct.convert(torch.export.export(...)
.run_decompositions({}))`); the TorchScript path fails on custom layers. Two variants:
- fp16: float16 compute and weights (`compute_precision=FLOAT16`), Core ML's default and what the
  Neural Engine runs;
- int8: the fp16 program with its conv weights linearly quantised to int8 per output channel
  (`linear_quantize_weights`), dequantised on load, so compute stays fp16 and the file shrinks ~2x.
A config that does not convert is a result ("infeasible for Core ML", with the converter's
message), never an exception: the search marks it and moves on.
"""

from __future__ import annotations

import io
import logging
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import torch

from device_bench.coreml_ops import register_missing_ops
from device_bench.parts import ExportableCodec, check_part, part_graph
from device_bench.program_summary import summarize_coreml_spec

CoreMLVariant = Literal["fp16", "int8"]
VARIANTS: tuple[str, ...] = get_args(CoreMLVariant)
# iOS 17 runs on every iPhone from the XS on; its int8 weights op (constexpr_affine_dequantize)
# is what the Neural Engine of the A17/A18 decodes on load.
DEFAULT_TARGET = "iOS17"
# Below this many elements a weight stays fp16: quantising a bias or a tiny kernel saves nothing.
INT8_WEIGHT_THRESHOLD = 512
# A fixed timestamp inside zips, so equal packages give equal bytes and equal content hashes.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


METADATA_VARIANT = "codecnas.variant"


class CoreMLConversionError(RuntimeError):
    """coremltools could not convert (or quantise) a module; carries the converter's message."""


@dataclass(frozen=True)
class CoreMLExport:
    """The outcome of one export: a package and its program summary, or why there is none."""

    part: str
    variant: str
    tile: int
    feasible: bool
    package: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    message: str = ""  # the converter's message when infeasible
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "variant": self.variant,
            "tile": self.tile,
            "feasible": self.feasible,
            "package": None if self.package is None else str(self.package),
            "summary": self.summary,
            "message": self.message,
            "seconds": round(self.seconds, 3),
        }


def check_variant(variant: str) -> CoreMLVariant:
    if variant not in VARIANTS:
        raise ValueError(f"Core ML variant must be one of {VARIANTS}, got variant={variant!r}")
    return variant  # type: ignore[return-value]


def convert_module(
    module: torch.nn.Module,
    example_inputs: tuple[torch.Tensor, ...],
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
    variant: str = "fp16",
    target: str = DEFAULT_TARGET,
) -> Any:
    """The module as a coremltools MLModel (not loaded for prediction); raises
    CoreMLConversionError with the converter's message when it does not convert."""
    import coremltools as ct  # heavy import, and only the Core ML paths need it

    check_variant(variant)
    register_missing_ops()
    if len(input_names) != len(example_inputs):
        raise ValueError(
            f"{len(input_names)} input names {input_names} for {len(example_inputs)} inputs"
        )
    was_training = module.training
    module.eval()
    # coremltools logs a progress bar and warnings per conversion; keep agents' logs readable.
    logging.getLogger("coremltools").setLevel(logging.ERROR)
    try:
        program = torch.export.export(module, example_inputs).run_decompositions({})
        mlmodel = ct.convert(
            program,
            inputs=[
                ct.TensorType(name=name, shape=tuple(tensor.shape))
                for name, tensor in zip(input_names, example_inputs, strict=True)
            ],
            outputs=[ct.TensorType(name=name) for name in output_names],
            convert_to="mlprogram",
            compute_precision=ct.precision.FLOAT16,
            minimum_deployment_target=getattr(ct.target, target),
            skip_model_load=True,  # loading needs macOS; conversion does not
        )
        if variant == "int8":
            mlmodel = _quantize_weights_int8(mlmodel)
        # Backends read these back to label results without being told.
        mlmodel.user_defined_metadata[METADATA_VARIANT] = variant
    except Exception as error:  # the converter raises many types; all mean "does not convert"
        raise CoreMLConversionError(
            f"{type(module).__name__} does not convert to Core ML ({variant}): "
            f"{type(error).__name__}: {error}"
        ) from error
    finally:
        module.train(was_training)
    return mlmodel


def _quantize_weights_int8(mlmodel: Any) -> Any:
    import coremltools.optimize.coreml as cto

    config = cto.OptimizationConfig(
        global_config=cto.OpLinearQuantizerConfig(
            mode="linear_symmetric",
            dtype="int8",
            granularity="per_channel",
            weight_threshold=INT8_WEIGHT_THRESHOLD,
        )
    )
    return cto.linear_quantize_weights(mlmodel, config)


def export_module(
    module: torch.nn.Module,
    example_inputs: tuple[torch.Tensor, ...],
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
    package: Path,
    *,
    part: str,
    tile: int,
    variant: str = "fp16",
    target: str = DEFAULT_TARGET,
) -> CoreMLExport:
    """Convert and save to `package` (a `.mlpackage` folder, replaced if present)."""
    start = time.perf_counter()
    try:
        mlmodel = convert_module(
            module, example_inputs, input_names, output_names, variant=variant, target=target
        )
    except CoreMLConversionError as error:
        return CoreMLExport(
            part, variant, tile, False, message=str(error), seconds=time.perf_counter() - start
        )
    package = Path(package)
    if package.suffix != ".mlpackage":
        raise ValueError(f"a Core ML package path must end in .mlpackage, got {package}")
    if package.exists():
        shutil.rmtree(package)
    package.parent.mkdir(parents=True, exist_ok=True)
    mlmodel.save(str(package))
    summary = summarize_coreml_spec(mlmodel.get_spec())
    summary["variant"] = variant
    summary["deployment_target"] = target
    return CoreMLExport(
        part, variant, tile, True, package, summary, seconds=time.perf_counter() - start
    )


def export_coreml(
    model: ExportableCodec,
    part: str,
    out_dir: Path,
    *,
    tile: int = 512,
    variant: str = "fp16",
    target: str = DEFAULT_TARGET,
) -> CoreMLExport:
    """Export the model's `part` to `out_dir/{part}-{variant}-t{tile}.mlpackage`."""
    check_part(part)
    check_variant(variant)
    graph = part_graph(model, part, tile)
    package = Path(out_dir) / f"{part}-{variant}-t{tile}.mlpackage"
    return export_module(
        graph.module,
        graph.example_inputs,
        graph.input_names,
        graph.output_names,
        package,
        part=part,
        tile=tile,
        variant=variant,
        target=target,
    )


def load_package_spec(package: Path) -> Any:
    """The spec of a saved package, read without loading the model (works on Linux)."""
    import coremltools as ct

    if not (Path(package) / "Manifest.json").is_file():
        raise ValueError(f"{package} is not a Core ML package (no Manifest.json)")
    return ct.models.MLModel(str(package), skip_model_load=True).get_spec()


def package_to_bytes(package: Path) -> bytes:
    """The package folder as a zip with sorted entries and fixed times: equal in, equal out."""
    package = Path(package)
    if not package.is_dir():
        raise ValueError(f"{package} is not a package folder")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in package.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{package.name}/{path.relative_to(package).as_posix()}")
            info.date_time = _ZIP_EPOCH
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def package_from_bytes(data: bytes, out_dir: Path) -> Path:
    """Unpack bytes made by package_to_bytes into `out_dir`; returns the package folder."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise ValueError(f"not a zipped Core ML package ({len(data)} bytes): {error}") from error
    with archive:
        names = archive.namelist()
        roots = {name.split("/", 1)[0] for name in names}
        if len(roots) != 1 or not next(iter(roots)).endswith(".mlpackage"):
            raise ValueError(f"a zipped package holds one .mlpackage folder, found {sorted(roots)}")
        if any(".." in Path(name).parts or name.startswith("/") for name in names):
            raise ValueError("a zipped package must not write outside its folder")
        archive.extractall(out_dir)
    return Path(out_dir) / next(iter(roots))
