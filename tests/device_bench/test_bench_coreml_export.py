import json
from pathlib import Path

import pytest
import torch

from device_bench.artifacts import MANIFEST, content_hash, export_device_artifacts
from device_bench.coreml_export import (
    CoreMLExport,
    export_coreml,
    export_module,
    load_package_spec,
    package_from_bytes,
    package_to_bytes,
)
from device_bench.parts import ExportableCodec
from device_bench.program_summary import summarize_coreml_spec
from tests.device_bench.conftest import COREML_TILE


def test_fp16_and_int8_decoders_are_written_and_read_back(
    coreml_exports: dict[str, CoreMLExport],
) -> None:
    fp16, int8 = coreml_exports["decoder-fp16"], coreml_exports["decoder-int8"]
    for export in (fp16, int8):
        assert export.feasible and export.message == ""
        assert export.package is not None and (export.package / "Manifest.json").is_file()
        assert [i["name"] for i in export.summary["inputs"]] == ["y_hat", "z_hat"]
        assert [o["name"] for o in export.summary["outputs"]] == ["x_hat", "scales"]
        assert export.summary["outputs"][0]["shape"] == [1, 3, COREML_TILE, COREML_TILE]
    main16, main8 = fp16.summary["functions"]["main"], int8.summary["functions"]["main"]
    assert main16["compute_precision"] == main8["compute_precision"] == "fp16"
    assert main16["weight_precision"] == "fp16"
    assert (
        main8["weight_precision"].startswith(("int8", "mixed("))
        and "int8" in main8["weight_precision"]
    )
    # the residual decoder's transposed convs and convs survive conversion, counted
    assert main16["op_types"]["conv_transpose"] >= 2 and main16["op_types"]["conv"] >= 2
    assert main8["op_types"].get("constexpr_affine_dequantize", 0) >= 4
    assert "constexpr_affine_dequantize" not in main16["op_types"]
    # int8 weights halve the weight file
    size = {
        e.variant: sum(f.stat().st_size for f in Path(str(e.package)).rglob("*"))
        for e in (fp16, int8)
    }
    assert size["int8"] < 0.75 * size["fp16"]


def test_the_summary_is_read_back_from_the_saved_package(
    coreml_exports: dict[str, CoreMLExport],
) -> None:
    export = coreml_exports["decoder-int8"]
    assert export.package is not None
    summary = summarize_coreml_spec(load_package_spec(export.package))
    assert summary["functions"] == export.summary["functions"]
    assert summary["metadata"]["codecnas.variant"] == "int8"


def test_encoder_package_takes_an_image_tile(coreml_exports: dict[str, CoreMLExport]) -> None:
    export = coreml_exports["encoder-fp16"]
    assert export.feasible, export.message
    assert export.summary["inputs"][0]["name"] == "x"
    assert export.summary["inputs"][0]["shape"] == [1, 3, COREML_TILE, COREML_TILE]
    assert [o["name"] for o in export.summary["outputs"]] == ["y_hat", "z_hat", "scales"]
    assert export.summary["functions"]["main"]["op_types"]["round"] >= 2
    assert export.to_json()["feasible"] is True


class Bessel(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.special.bessel_j0(x)


def test_a_config_that_does_not_convert_is_infeasible_with_the_message(tmp_path: Path) -> None:
    export = export_module(
        Bessel(), (torch.randn(1, 3, 8, 8),), ("x",), ("y",), tmp_path / "b.mlpackage",
        part="decoder", tile=8,
    )  # fmt: skip
    assert not export.feasible
    assert export.package is None and not (tmp_path / "b.mlpackage").exists()
    assert "does not convert to Core ML (fp16)" in export.message
    assert "special_bessel_j0" in export.message  # the converter's own words
    assert export.to_json()["message"] == export.message


def test_unknown_variant_and_part_are_rejected(tiny_codec: ExportableCodec, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="variant='int4'"):
        export_coreml(tiny_codec, "decoder", tmp_path, variant="int4")
    with pytest.raises(ValueError, match="part='prior'"):
        export_coreml(tiny_codec, "prior", tmp_path)


def test_package_bytes_are_deterministic_and_round_trip(
    coreml_exports: dict[str, CoreMLExport], tmp_path: Path
) -> None:
    package = coreml_exports["decoder-fp16"].package
    assert package is not None
    data = package_to_bytes(package)
    assert data == package_to_bytes(package)  # same content hash every time
    unpacked = package_from_bytes(data, tmp_path)
    assert unpacked.name == package.name
    assert sorted(p.relative_to(unpacked) for p in unpacked.rglob("*")) == sorted(
        p.relative_to(package) for p in package.rglob("*")
    )
    with pytest.raises(ValueError, match="not a zipped Core ML package"):
        package_from_bytes(b"garbage", tmp_path)


@pytest.mark.slow
def test_device_artifacts_folder_describes_every_artifact(
    tiny_codec: ExportableCodec, tmp_path: Path
) -> None:
    manifest = export_device_artifacts(tiny_codec, tmp_path, tile=COREML_TILE)
    assert json.loads((tmp_path / MANIFEST).read_text()) == manifest
    assert sorted(manifest["onnx"]) == ["decoder", "encoder"]
    assert sorted(manifest["coreml"]) == [
        "decoder-fp16",
        "decoder-int8",
        "encoder-fp16",
        "encoder-int8",
    ]
    for entry in manifest["onnx"].values():
        data = (tmp_path / entry["file"]).read_bytes()
        assert entry["sha256"] == content_hash(data)
    for entry in manifest["coreml"].values():
        assert entry["feasible"], entry["message"]
        assert entry["sha256"] == content_hash(package_to_bytes(tmp_path / entry["package"]))


class GridMasked(torch.nn.Module):
    """The op pattern of pico's context models: a boolean grid mask (&) and an aliased tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = torch.arange(4)[:, None] % 2 == 0
        cols = torch.arange(4)[None, :] % 2 == 0
        return torch.where(rows & cols, x, torch.zeros_like(x)) + torch.ops.aten.alias(x)


def test_alias_and_boolean_and_convert(tmp_path: Path) -> None:
    # coremltools 9.0 alone rejects both ops (device_bench/coreml_ops.py)
    export = export_module(
        GridMasked(), (torch.randn(1, 2, 4, 4),), ("x",), ("y",), tmp_path / "g.mlpackage",
        part="decoder", tile=4,
    )  # fmt: skip
    assert export.feasible, export.message
    assert export.summary["functions"]["main"]["weight_precision"] in ("fp16", "none")
