"""Terminal tables: a campaign's status, its Pareto front, and a best-for-budget answer."""

from __future__ import annotations

from rich.table import Table

from codec.anchor_extrapolation import FOOTNOTE, extrapolation, flag, ratio_note
from nas.domain import CampaignRecord, HypervolumePoint, TrialRecord, TrialState
from nas.funnel.domain import FunnelStageRecord
from nas.inheritance import describe_initialisation
from nas.selection import BudgetChoice

_NAN = float("nan")
_COLUMNS = (
    ("quality_ratio_vs_jpeg", "bits vs JPEG", "{:.3f}"),
    ("bpp", "bpp", "{:.3f}"),
    ("psnr", "PSNR dB", "{:.2f}"),
    ("ms_ssim", "MS-SSIM", "{:.4f}"),
    ("decode_ms_12mp", "decode 12MP ms", "{:.0f}"),
)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """ "1 trial", "2 trials": a count with its noun, singular or plural."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _value(trial: TrialRecord, key: str, fmt: str) -> str:
    value = trial.metrics.get(key)
    return "-" if value is None else flag(fmt.format(value), key, trial.metrics)


def _extrapolated_share(trial: TrialRecord) -> str:
    found = extrapolation(trial.metrics)
    return "" if found is None else found.share


def _init_text(trial: TrialRecord) -> str:
    """Short form of what the trial's weights started from: 'trial 3, 87%', 'scratch'."""
    init = trial.initialisation
    if not init:
        return "-"
    share = f", {init['fraction']:.0%}" if isinstance(init.get("fraction"), int | float) else ""
    if init.get("kind") == "trial":
        return f"trial {init.get('trial_number')}{share}"
    if init.get("kind") == "model_dir":
        return f"folder{share}"
    return str(init.get("kind", "-"))


def _config_text(trial: TrialRecord) -> str:
    return ", ".join(f"{k}={v}" for k, v in trial.config.items())


def front_table(campaign: CampaignRecord, front: list[TrialRecord]) -> Table:
    # A ratio outside the anchor's measured quality range is marked, with its image count.
    flagged = any(ratio_note(k, t.metrics) for t in front for k, _, _ in _COLUMNS)
    table = Table(
        title=f"Pareto front of {campaign.name!r} ({counted(len(front), 'trial')})",
        caption=f"{FOOTNOTE} (extrap.: on how many eval images)" if flagged else None,
    )
    table.add_column("trial", justify="right")
    for _, title, _ in _COLUMNS:
        table.add_column(title, justify="right")
    if flagged:
        table.add_column("extrap.", justify="right")  # images: "4/6"
    table.add_column("config hash")
    table.add_column("init from")  # inheritance: the trial or model folder it started from
    ordered = sorted(front, key=lambda t: t.metrics.get("decode_ms_12mp", 0.0))
    for t in ordered:
        # The full config is long (37 knobs in pico): `codecnas best` prints it for the choice.
        extra = [_extrapolated_share(t)] if flagged else []
        values = (_value(t, k, f) for k, _, f in _COLUMNS)
        table.add_row(str(t.number), *values, *extra, t.config_hash[:12], _init_text(t))
    return table


def status_table(
    campaign: CampaignRecord,
    counts: dict[TrialState, int],
    history: list[HypervolumePoint],
    budget: int,
) -> Table:
    table = Table(title=f"campaign {campaign.name!r} (id {campaign.id})", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_row("status", campaign.status.value)
    table.add_row("trial budget", str(budget))
    for state in TrialState:
        table.add_row(f"trials {state.value}", str(counts.get(state, 0)))
    if history:
        table.add_row(
            "hypervolume", f"{history[-1].hypervolume:.4g} after {history[-1].n_complete} trials"
        )
    return table


def funnel_table(stages: list[FunnelStageRecord]) -> Table:
    """Each funnel stage's configs in and out, and its wall time."""
    table = Table(title="funnel stages")
    table.add_column("stage")
    table.add_column("configs in", justify="right")
    table.add_column("configs out", justify="right")
    table.add_column("kept", justify="right")
    table.add_column("seconds", justify="right")
    for s in stages:
        kept = f"{s.n_out / s.n_in:.2%}" if s.n_in else "-"
        table.add_row(s.stage, f"{s.n_in:,}", f"{s.n_out:,}", kept, f"{s.seconds:.1f}")
    return table


def failed_table(failed: list[TrialRecord]) -> Table:
    table = Table(title="failed trials")
    table.add_column("trial", justify="right")
    table.add_column("attempts", justify="right")
    table.add_column("reason")
    for t in failed:
        table.add_row(str(t.number), str(t.attempts), (t.error or "").splitlines()[0][:160])
    return table


def choice_text(choice: BudgetChoice) -> str:
    if choice.trial is None:
        return f"[yellow]{choice.message}[/]"
    colour = "green" if choice.fits else "yellow"
    t = choice.trial
    note = ratio_note(choice.quality_metric, t.metrics)
    quality = flag(f"{t.metrics[choice.quality_metric]:.3f}", choice.quality_metric, t.metrics)
    initialised = describe_initialisation(t.initialisation)
    return (
        f"[{colour}]{choice.message}[/]\n"
        f"  {choice.quality_metric} = {quality}{f' ({note})' if note else ''}, "
        f"bpp = {t.metrics.get('bpp', _NAN):.3f}, PSNR = {t.metrics.get('psnr', _NAN):.2f} dB\n"
        f"  config: {_config_text(t)}"
        + (f"\n  {initialised}" if initialised else "")
        + (f"\n  [dim]{FOOTNOTE}[/]" if note else "")
    )
