"""Writing a chosen trial out as a codec folder: config, weights, ONNX decoder, measurements."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

from nas.domain import TrialRecord
from nas.storage.repository import CampaignStore
from search_spaces.model_dir import CONFIG_FILE, WEIGHTS_FILE

_FILES_BY_KIND = {"checkpoint": WEIGHTS_FILE, "onnx_decoder": "decoder.onnx", "config": CONFIG_FILE}


def export_trial(store: CampaignStore, trial: TrialRecord, out_dir: Path) -> list[Path]:
    """Copy the trial's artifacts (verified by hash on disk) and write its measurements."""
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
    return written
