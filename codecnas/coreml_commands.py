"""`codecnas coreml-export CAMPAIGN OUT_DIR`: every Pareto-front codec as Core ML packages.

One folder per front trial (`trial-0007/`), each a full codec folder as `codecnas best
--export` writes it: config, weights, ONNX decoder, measurements, and under `coreml/` the
encoder and decoder in fp16 and int8-weight `.mlpackage`s with their program summaries. A part
that does not convert is recorded in that trial's `coreml/coreml_error.txt`; the command goes on.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from codecnas.settings import Settings

console = Console()


def _ref(campaign: str) -> int | str:
    return int(campaign) if campaign.isdigit() else campaign


def coreml_export(
    campaign: str,
    out_dir: Path,
    db: str | None = typer.Option(
        None, "--db", help="SQLAlchemy URL (default: SQLite in $CODECNAS_HOME)"
    ),
) -> None:
    """Export every Pareto-front codec of CAMPAIGN, with its Core ML packages, into OUT_DIR."""
    # Imported here: the exporters load torch and coremltools, in seconds.
    from codecnas.exporting import COREML_DIR, COREML_INDEX_FILE, export_trial
    from codecnas.reports import counted
    from nas.storage.repository import CampaignStore

    settings = Settings.from_env(db)
    settings.prepare()
    store = CampaignStore(settings.database_url, settings.artifact_root)
    record = store.campaign(_ref(campaign))
    front = store.front(record.id)
    if not front:
        console.print(f"campaign {record.name!r} has no Pareto front yet: nothing to export")
        raise typer.Exit(code=1)
    converted = total = 0
    for trial in front:
        folder = out_dir / f"trial-{trial.number:04d}"
        export_trial(store, trial, folder)
        outcomes = json.loads((folder / COREML_DIR / COREML_INDEX_FILE).read_text())
        ok = sum(1 for outcome in outcomes if outcome["feasible"])
        converted, total = converted + ok, total + len(outcomes)
        console.print(f"  trial {trial.number}: {ok}/{len(outcomes)} Core ML packages -> {folder}")
    console.print(
        f"exported {counted(len(front), 'front trial')} of {record.name!r}: "
        f"{converted}/{total} Core ML packages converted"
    )
