import io
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from device_bench.artifacts import MANIFEST, content_hash, export_device_artifacts
from device_bench.coreml_export import (
    CoreMLExport,
    export_coreml,
    export_module,
    load_package_spec,
    package_from_bytes,
    package_to_bytes,
)
from device_bench.onnx_export import export_part
from device_bench.parts import ExportableCodec
from device_bench.program_summary import summarize_coreml_spec
from nas.controller import Controller
from nas.domain import ArtifactPayload, TrialJob, TrialOutcome
from nas.executor import InProcessExecutor
from nas.spec import parse_spec
from nas.storage.repository import CampaignStore
from search_spaces import get_space
from tests.conftest import tiny_spec
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


def _front_outcome(job: TrialJob) -> TrialOutcome:
    """A real (untrained) codec of the job's config, with a trade-off so every trial is on the
    front: trial n is better in quality and worse in decode time than trial n + 1."""
    torch.manual_seed(job.number)
    model = get_space(job.space).build(job.config)
    weights = io.BytesIO()
    torch.save(model.state_dict(), weights)
    config_doc = {"space": job.space, "config": job.config, "config_hash": job.config_hash}
    return TrialOutcome(
        trial_id=job.trial_id,
        ok=True,
        metrics={
            "quality_ratio_vs_jpeg": 1.0 + job.number,
            "decode_ms_12mp": 900.0 / (1 + job.number),
        },
        artifacts=[
            ArtifactPayload("checkpoint", "model.pt", weights.getvalue()),
            ArtifactPayload("onnx_decoder", "decoder.onnx", export_part(model, "decoder", 64)),
            ArtifactPayload("config", "config.json", json.dumps(config_doc).encode()),
        ],
    )


@pytest.mark.slow  # eight conversions: ~40 s on 2 shared cores
def test_coreml_export_writes_every_front_codec_and_records_what_does_not_convert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codecnas import exporting
    from codecnas.cli import app

    url = f"sqlite:///{tmp_path / 'codecnas.sqlite'}"
    monkeypatch.setenv("CODECNAS_HOME", str(tmp_path))
    store = CampaignStore(url, tmp_path / "artifacts")
    spec = parse_spec(tiny_spec(budget={"trials": 2, "parallel": 1}, constraints=[]))
    campaign = store.create_campaign(spec.name, spec.to_json())
    Controller(store, campaign.id, InProcessExecutor(_front_outcome)).run()
    front = store.front(campaign.id)
    assert len(front) == 2
    # One part of the second trial meets an op Core ML lacks: the converter's real refusal.
    real_export = exporting.export_coreml

    def export_with_one_failure(model: Any, part: str, out: Path, **kwargs: Any) -> CoreMLExport:
        if out.parent.name.endswith("1") and (part, kwargs["variant"]) == ("encoder", "int8"):
            inputs = (torch.randn(1, 3, 8, 8),)
            package = out / "encoder-int8.mlpackage"
            return export_module(
                Bessel(), inputs, ("x",), ("y",), package, part=part, tile=8, variant="int8"
            )
        return real_export(model, part, out, **kwargs)

    monkeypatch.setattr(exporting, "export_coreml", export_with_one_failure)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        result = CliRunner().invoke(
            app, ["coreml-export", "tiny", str(tmp_path / "out"), "--db", url]
        )
    assert result.exit_code == 0, result.output
    # the converter's ~40 warnings per export come to the user as one line per codec
    messages = [str(w.message) for w in shown]
    assert len(messages) == len(front), messages
    assert all("warnings of the Core ML converter hidden" in m for m in messages)
    assert "7/8 Core ML packages converted" in result.output
    for trial in front:
        folder = tmp_path / "out" / f"trial-{trial.number:04d}"
        assert {"config.json", "model.pt", "decoder.onnx", "measurements.json"} <= {
            p.name for p in folder.iterdir()
        }
        coreml = folder / "coreml"
        index = json.loads((coreml / "coreml.json").read_text())
        assert [(o["part"], o["variant"]) for o in index] == [
            ("encoder", "fp16"), ("encoder", "int8"), ("decoder", "fp16"), ("decoder", "int8"),
        ]  # fmt: skip
        for outcome in index:
            if not outcome["feasible"]:
                continue
            assert not Path(outcome["package"]).is_absolute()  # the folder can be moved
            package = coreml / outcome["package"]
            assert (package / "Manifest.json").is_file() and outcome["tile"] == 64
            summary = json.loads(package.with_suffix(".summary.json").read_text())
            assert summary["variant"] == outcome["variant"]
            assert summary["functions"]["main"]["op_types"]["conv"] >= 1
            assert summary == summarize_coreml_spec(load_package_spec(package)) | {
                "variant": outcome["variant"], "deployment_target": "iOS17"
            }  # fmt: skip
        error = coreml / "coreml_error.txt"
        if trial.number == 1:
            assert "encoder int8" in error.read_text() and "special_bessel_j0" in error.read_text()
        else:
            assert not error.exists()
    store.close()
