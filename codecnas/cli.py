"""`codecnas`: launch and resume campaigns, read their fronts, pull the best codec for a budget."""

from __future__ import annotations

import logging
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from codecnas import agent_commands, codec_commands, coreml_commands, serve_commands
from codecnas.settings import Settings
from nas.domain import CampaignRecord, TrialState
from nas.errors import CodecnasError

# Specs (pydantic, the search spaces), the database (SQLAlchemy, Alembic) and the reports are
# imported by the commands that use them: `codecnas --help` starts in a fraction of a second.
if TYPE_CHECKING:
    from nas.spec import CampaignSpec
    from nas.storage.repository import CampaignStore

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
campaign_app = typer.Typer(
    help="Launch, resume and inspect search campaigns.", no_args_is_help=True
)
app.add_typer(campaign_app, name="campaign")
app.add_typer(codec_commands.app, name="codec")
app.command("serve")(serve_commands.serve)
app.command("agent")(agent_commands.agent)
app.command("coreml-export")(coreml_commands.coreml_export)
app.add_typer(serve_commands.token_app, name="token")
console = Console()

DEMO_SPEC = Path(__file__).parent / "examples" / "demo.yaml"
DbOption = typer.Option(None, "--db", help="SQLAlchemy URL (default: SQLite in $CODECNAS_HOME)")


def _store(db: str | None) -> CampaignStore:
    from nas.storage.repository import CampaignStore

    settings = Settings.from_env(db)
    settings.prepare()
    return CampaignStore(settings.database_url, settings.artifact_root)


def _show_result(store: CampaignStore, campaign: CampaignRecord) -> None:
    from codecnas.reports import failed_table, front_table

    front = store.front(campaign.id)
    console.print(front_table(campaign, front))
    failed = store.trials(campaign.id, TrialState.FAILED)
    if failed:
        console.print(failed_table(failed))


def _run(store: CampaignStore, campaign_id: int) -> None:
    from nas.spec import parse_spec

    if parse_spec(store.campaign(campaign_id).spec).mode == "funnel":
        from codecnas.funnel_running import run_funnel

        run_funnel(store, campaign_id, console)
        return
    # Imported here: Ray loads in seconds, and `serve`, `pareto` or `best` never need it.
    from codecnas.running import run_campaign

    run_campaign(store, campaign_id, console)


def _launch(store: CampaignStore, spec: CampaignSpec) -> CampaignRecord:
    campaign = store.create_campaign(spec.name, spec.to_json())
    console.print(f"campaign {campaign.name!r} created (id {campaign.id}) in {store.url}")
    _run(store, campaign.id)
    return store.campaign(campaign.id)


@campaign_app.command("launch")
def campaign_launch(
    spec_path: Path = typer.Argument(..., help="campaign spec (YAML)"),
    name: str | None = typer.Option(None, help="override the spec's name"),
    db: str | None = DbOption,
) -> None:
    """Create a campaign from SPEC and run it to its trial budget."""
    from nas.spec import load_spec, parse_spec

    spec = load_spec(spec_path)
    if name:
        spec = parse_spec({**spec.to_json(), "name": name}, source=str(spec_path))
    store = _store(db)
    _show_result(store, _launch(store, spec))


@campaign_app.command("resume")
def campaign_resume(campaign: str, db: str | None = DbOption) -> None:
    """Go on with an interrupted campaign: finished trials are kept, running ones run again."""
    store = _store(db)
    record = store.campaign(_ref(campaign))
    from codecnas.reports import counted

    trials = store.trials(record.id)
    requeued = [t for t in trials if not t.state.is_finished]
    if not trials:  # a campaign created but never run (the dashboard's Launch) starts here
        console.print(f"starting {record.name!r}")
    else:
        unfinished = counted(len(requeued), "unfinished trial")
        console.print(f"resuming {record.name!r}: {unfinished} to run again")
    _run(store, record.id)
    _show_result(store, store.campaign(record.id))


@campaign_app.command("status")
def campaign_status(campaign: str, db: str | None = DbOption) -> None:
    """Trial counts, state and hypervolume of a campaign."""
    from codecnas.reports import funnel_table, status_table
    from nas.spec import parse_spec

    store = _store(db)
    record = store.campaign(_ref(campaign))
    spec = parse_spec(record.spec)
    console.print(
        status_table(
            record,
            store.count_trials(record.id),
            store.hypervolume_history(record.id),
            spec.budget.trials,
        )
    )
    stages = store.funnel_stages(record.id)
    if stages:
        console.print(funnel_table(stages))


@campaign_app.command("list")
def campaign_list(db: str | None = DbOption) -> None:
    """All campaigns in the database."""
    store = _store(db)
    for c in store.campaigns():
        counts = store.count_trials(c.id)
        done = counts.get(TrialState.COMPLETE, 0)
        console.print(f"{c.id:>4}  {c.name:<30} {c.status.value:<12} {done} complete")


@app.command("pareto")
def pareto(campaign: str, db: str | None = DbOption) -> None:
    """The stored Pareto front of a campaign."""
    store = _store(db)
    _show_result(store, store.campaign(_ref(campaign)))


@app.command("best")
def best(
    campaign: str,
    decode_ms: float = typer.Option(..., "--decode-ms", help="decode budget for a 12 MP image"),
    export: Path | None = typer.Option(None, "--export", help="write the codec to this folder"),
    coreml: bool = typer.Option(
        True, "--coreml/--no-coreml", help="with --export: also the Core ML packages"
    ),
    db: str | None = DbOption,
) -> None:
    """The best codec whose 12 MP decode time fits the budget; optionally export it."""
    from codecnas.reports import choice_text
    from nas.selection import best_in_campaign

    store = _store(db)
    record = store.campaign(_ref(campaign))
    choice = best_in_campaign(store, record.id, decode_ms)
    console.print(choice_text(choice))
    if choice.trial is None:
        raise typer.Exit(code=1)
    if export is not None:
        from codecnas.exporting import export_trial  # torch and coremltools load in seconds

        if not choice.fits:
            console.print("[yellow]exporting the closest trial, which is over the budget[/]")
        for path in export_trial(store, choice.trial, export, coreml=coreml):
            console.print(f"  wrote {path}")
    if not choice.fits:
        raise typer.Exit(code=1)


def _from_repository(init: str) -> str:
    """The demo's model folder, named relative to the repository, from wherever it runs."""
    if init in ("nearest", "scratch") or Path(init).is_absolute():
        return init
    return str(DEMO_SPEC.parents[2] / init)


@app.command("demo")
def demo(
    decode_ms: float = typer.Option(
        20_000, "--decode-ms", help="decode budget to answer at the end"
    ),
    trials: int | None = typer.Option(None, help="override the demo's trial budget"),
    db: str | None = DbOption,
) -> None:
    """A small real campaign on the embedded default (SQLite, local Ray, ONNX Runtime)."""
    from codecnas.reports import choice_text
    from nas.selection import best_in_campaign
    from nas.spec import load_spec, parse_spec

    spec = load_spec(DEMO_SPEC)
    store = _store(db)
    data = spec.to_json()
    data["name"] = _free_name(store, spec.name)
    data["training"] = {**data["training"], "init": _from_repository(data["training"]["init"])}
    if trials:
        data["budget"] = {**data["budget"], "trials": trials}
    console.print(
        "[dim]Demo trials start from the shipped reference codec and fine-tune for seconds; "
        "the search machinery, storage and measurements are all real.[/]"
    )
    start = time.perf_counter()
    campaign = _launch(store, parse_spec(data))
    _show_result(store, campaign)
    console.print(f"best for a 12 MP decode budget of {decode_ms:g} ms:")
    console.print(choice_text(best_in_campaign(store, campaign.id, decode_ms)))
    console.print(f"demo wall time: {time.perf_counter() - start:.0f} s; database: {store.url}")


def _free_name(store: CampaignStore, base: str) -> str:
    names = {c.name for c in store.campaigns()}
    if base not in names:
        return base
    return next(f"{base}-{i}" for i in range(2, 10_000) if f"{base}-{i}" not in names)


def _ref(campaign: str) -> int | str:
    return int(campaign) if campaign.isdigit() else campaign


def accept_interrupts() -> None:
    """Take SIGINT as Ctrl-C even when started by a process that ignores or blocks it: both are
    inherited across exec, and the dashboard stops the runs it launched with SIGINT."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    accept_interrupts()
    try:
        app()
    except CodecnasError as exc:
        console.print(f"[red]error:[/] {exc}")
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: `codecnas campaign resume NAME` goes on from here[/]")
        sys.exit(130)


if __name__ == "__main__":
    main()
