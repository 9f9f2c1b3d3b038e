"""Every device artifact of one codec in a folder, with a manifest that describes each.

`export_device_artifacts(model, out_dir)` writes the encoder and decoder as ONNX, and as Core ML
packages in each variant, and `device_artifacts.json`: per artifact its file, its content hash
(what agents download it by and results are cached under) and its program summary; per Core ML
variant that did not convert, the converter's message ("infeasible for Core ML").
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from device_bench.coreml_export import VARIANTS, export_coreml, package_to_bytes
from device_bench.onnx_export import export_part
from device_bench.parts import PARTS, ExportableCodec
from device_bench.program_summary import summarize_onnx

MANIFEST = "device_artifacts.json"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export_device_artifacts(
    model: ExportableCodec,
    out_dir: Path,
    *,
    tile: int = 512,
    coreml_variants: tuple[str, ...] = VARIANTS,
) -> dict[str, Any]:
    """Write the artifacts and their manifest into `out_dir`; returns the manifest."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"tile": tile, "onnx": {}, "coreml": {}}
    for part in PARTS:
        onnx_model = export_part(model, part, tile)
        name = f"{part}-t{tile}.onnx"
        (out_dir / name).write_bytes(onnx_model)
        manifest["onnx"][part] = {
            "file": name,
            "sha256": content_hash(onnx_model),
            "summary": summarize_onnx(onnx_model),
        }
        for variant in coreml_variants:
            export = export_coreml(model, part, out_dir, tile=tile, variant=variant)
            entry = export.to_json()
            if export.package is not None:
                entry["package"] = export.package.name
                entry["sha256"] = content_hash(package_to_bytes(export.package))
            manifest["coreml"][f"{part}-{variant}"] = entry
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")
    return manifest
