"""Running a campaign from the CLI: Ray executor, controller, and a progress bar."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from codec.anchor_extrapolation import ratio_note
from nas.controller import Controller, ControllerEvent
from nas.domain import CampaignStatus, TrialRecord, TrialState
from nas.spec import parse_spec
from nas.storage.repository import CampaignStore
from workers.ray_executor import RayExecutor


def run_campaign(store: CampaignStore, campaign_id: int, console: Console) -> CampaignStatus:
    """Run (or resume) a campaign on Ray until its trial budget is spent."""
    campaign = store.campaign(campaign_id)
    spec = parse_spec(campaign.spec, source=f"campaign {campaign.name!r}")
    console.print(
        f"[bold]{campaign.name}[/]: {spec.budget.trials} trials of the {spec.space!r} space, "
        f"{spec.training.steps} training steps each, sampler {spec.sampler.kind}"
    )
    executor = RayExecutor(
        address=spec.cluster.address,
        cpus_per_trial=spec.cluster.cpus_per_trial,
        max_parallel=spec.budget.parallel,
        gpus_per_trial=spec.cluster.gpus_per_trial,
    )
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        done_before = sum(n for s, n in store.count_trials(campaign_id).items() if s.is_finished)
        task = progress.add_task("trials", total=spec.budget.trials, completed=done_before)

        def on_event(event: ControllerEvent) -> None:
            t = event.trial
            if event.kind == "finished":
                progress.update(task, completed=event.n_finished)
                progress.console.print(_trial_line(t))
            else:
                progress.update(task, description=f"trial {t.number} running")

        status = Controller(store, campaign_id, executor, on_event=on_event).run()
    return status


def _trial_line(trial: TrialRecord) -> str:
    if trial.state == TrialState.FAILED:
        reason = (trial.error or "").splitlines()[0][:120]
        return f"  trial {trial.number:>3} [red]failed[/]: {reason}"
    m = trial.metrics
    nan = float("nan")
    note = ratio_note("quality_ratio_vs_jpeg", m)
    return (
        f"  trial {trial.number:>3} [green]done[/]: "
        f"ratio vs JPEG {m.get('quality_ratio_vs_jpeg', nan):.3f}{f' ({note})' if note else ''}, "
        f"bpp {m.get('bpp', nan):.3f}, "
        f"PSNR {m.get('psnr', nan):.2f} dB, decode 12MP {m.get('decode_ms_12mp', nan):.0f} ms"
    )
