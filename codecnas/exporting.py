"""Writing a chosen trial out as a codec folder: config, weights, ONNX decoder, measurements,
and Core ML packages of its encoder and decoder (fp16 and int8 weights) with their read-back
program summaries.

A part that does not convert to Core ML is a finding, not a failure: the converter's message goes
to `coreml/coreml_error.txt`, the other packages are still written, and the export succeeds.
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from device_bench.coreml_export import VARIANTS, export_coreml
from device_bench.parts import PARTS
from nas.domain import TrialRecord
from nas.spec import parse_spec
from nas.storage.repository import CampaignStore
from search_spaces.model_dir import CONFIG_FILE, WEIGHTS_FILE, load_codec

if TYPE_CHECKING:
    from codec.model import LearnedCodec

_FILES_BY_KIND = {"checkpoint": WEIGHTS_FILE, "onnx_decoder": "decoder.onnx", "config": CONFIG_FILE}
COREML_DIR = "coreml"
COREML_ERROR_FILE = "coreml_error.txt"
COREML_INDEX_FILE = "coreml.json"


def export_trial(
    store: CampaignStore, trial: TrialRecord, out_dir: Path, *, coreml: bool = True
) -> list[Path]:
    """Copy the trial's artifacts (verified by hash on disk), write its measurements and, with
    `coreml`, its Core ML packages at the campaign's benchmark tile."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    artifacts = {a.kind: a for a in store.artifacts(trial.id)}
    missing = [k for k in _FILES_BY_KIND if k not in artifacts]
    if missing:
        raise FileNotFoundError(f"trial {trial.number} has no stored artifact(s) {missing}")
    for kind, filename in _FILES_BY_KIND.items():
        target = out_dir / filename
        shutil.copyfile(store.artifact_path(artifacts[kind].sha256), target)
        written.append(target)
    report = {
        "trial": trial.number,
        "campaign_id": trial.campaign_id,
        "config_hash": trial.config_hash,
        "objectives": trial.objectives,
        "metrics": trial.metrics,
        "measurements": [asdict(m) for m in store.measurements(trial.id)],
        "per_image": store.per_image_metrics(trial.id),
        "artifacts": {a.kind: {"sha256": a.sha256, "size": a.size} for a in artifacts.values()},
    }
    target = out_dir / "measurements.json"
    target.write_text(json.dumps(report, indent=2))
    written.append(target)
    if coreml:
        tile = parse_spec(store.campaign(trial.campaign_id).spec).benchmark.tile
        written += export_coreml_packages(out_dir, out_dir / COREML_DIR, tile)
    return written


def export_coreml_packages(model_dir: Path, out_dir: Path, tile: int) -> list[Path]:
    """Every part x variant of the codec in `model_dir` as `.mlpackage` plus a
    `.summary.json` each (op types and counts, compute precision), an index `coreml.json`,
    and `coreml_error.txt` with the converter's messages when some did not convert."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model = load_codec(model_dir)
    with warnings.catch_warnings(record=True) as noise:
        # coremltools warns ~40 times per export (untested torch version, no Core ML runtime
        # off macOS, deprecations), none of it actionable here: one line says how many.
        warnings.simplefilter("always")
        written = _export_every_package(model, out_dir, tile)
    if noise:
        kinds = sorted({w.category.__name__ for w in noise})
        warnings.warn(
            f"{len(noise)} warnings of the Core ML converter hidden ({', '.join(kinds)})",
            stacklevel=2,
        )
    return written


def _export_every_package(model: LearnedCodec, out_dir: Path, tile: int) -> list[Path]:
    written: list[Path] = []
    index, errors = [], []
    for part in PARTS:
        for variant in VARIANTS:
            export = export_coreml(model, part, out_dir, tile=tile, variant=variant)
            index.append(_relative_package(export.to_json(), out_dir))
            if not export.feasible or export.package is None:
                errors.append(f"{part} {variant} (tile {tile}): {export.message}")
                continue
            summary = export.package.with_suffix(".summary.json")
            summary.write_text(json.dumps(export.summary, indent=2, sort_keys=True))
            written += [export.package, summary]
    error_file = out_dir / COREML_ERROR_FILE
    if errors:
        error_file.write_text("\n".join(errors) + "\n")
        written.append(error_file)
    elif error_file.exists():
        error_file.unlink()  # left by an earlier export of another codec into this folder
    index_file = out_dir / COREML_INDEX_FILE
    index_file.write_text(json.dumps(index, indent=2))
    written.append(index_file)
    return written


def _relative_package(outcome: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The index names each package relative to its own folder: an export can be moved."""
    if outcome["package"] is not None:
        outcome["package"] = Path(outcome["package"]).relative_to(folder).as_posix()
    return outcome
