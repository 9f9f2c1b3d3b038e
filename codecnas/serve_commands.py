"""`codecnas serve` (the dashboard and API) and `codecnas token create|list|revoke`."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from codecnas.settings import (
    Settings,
    UnsafeSettingsError,
    is_placeholder,
    refuse_placeholder_secrets,
)
from nas.errors import CodecnasError
from nas.storage.access import Role

if TYPE_CHECKING:
    from dashboard import DashboardSettings
    from nas.storage import CampaignStore

token_app = typer.Typer(help="API tokens (stored hashed; the secret is shown once).")
console = Console()
DbOption = typer.Option(None, "--db", help="SQLAlchemy URL (default: SQLite in $CODECNAS_HOME)")
READ_TOKEN_VARIABLE = "CODECNAS_READ_TOKEN_REQUIRED"


def _open(db: str | None) -> tuple[Settings, CampaignStore]:
    from nas.storage import CampaignStore  # SQLAlchemy and Alembic: most of a second

    settings = Settings.from_env(db)
    settings.prepare()
    return settings, CampaignStore(settings.database_url, settings.artifact_root)


def dashboard_settings(
    settings: Settings, read_requires_token: bool, poll_seconds: float
) -> DashboardSettings:
    """Dashboard settings beside the campaigns' own: caches under the artifact root."""
    from dashboard import DashboardSettings  # the web stack loads only for `serve`

    return DashboardSettings(
        cache_dir=settings.artifact_root / "dashboard-cache",
        log_dir=settings.home / "logs",
        read_requires_token=read_requires_token,
        anchor_cache=settings.anchor_cache,
        # Runs started from the dashboard use the same folders as the server.
        campaign_env={
            "CODECNAS_HOME": str(settings.home),
            "CODECNAS_ARTIFACTS": str(settings.artifact_root),
            "CODECNAS_ANCHOR_CACHE": str(settings.anchor_cache),
        },
        poll_seconds=poll_seconds,
    )


# Tokens a deployment chooses in its .env (docker-compose.yml): stored at start, by digest only.
BOOTSTRAP_TOKENS = (("CODECNAS_ADMIN_TOKEN", Role.ADMIN), ("CODECNAS_AGENT_TOKEN", Role.AGENT))


def bootstrap_tokens(store: CampaignStore, environ: Mapping[str, str]) -> list[str]:
    """Store the tokens named by the environment (idempotent); the variables it used."""
    used = []
    for variable, role in BOOTSTRAP_TOKENS:
        secret = environ.get(variable, "").strip()
        if secret and not is_placeholder(secret):
            store.ensure_token(variable.lower(), role, secret)
            used.append(variable)
    return used


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on (0.0.0.0: every interface)"),
    port: int = typer.Option(8000, min=1, max=65535),
    read_token: bool = typer.Option(
        os.environ.get(READ_TOKEN_VARIABLE, "") not in ("", "0", "false"),
        "--read-token/--open-read",
        help=f"reads need a token too (default from ${READ_TOKEN_VARIABLE}); writes always do",
    ),
    poll_seconds: float = typer.Option(5.0, min=0.5, help="how often pages refresh a campaign"),
    db: str | None = DbOption,
) -> None:
    """Serve the dashboard and the JSON API (docs at /docs) on the campaigns' database."""
    import uvicorn  # only this command needs the web stack

    from dashboard import create_app

    try:
        refuse_placeholder_secrets(os.environ, Settings.from_env(db).database_url)
    except UnsafeSettingsError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    settings, store = _open(db)
    try:
        for variable in bootstrap_tokens(store, os.environ):
            console.print(f"token from {variable} stored (as its SHA-256)")
    except CodecnasError as exc:
        store.close()
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    app = create_app(dashboard_settings(settings, read_token, poll_seconds), store)
    reads = "need a token" if read_token else "are open"
    console.print(
        f"codecnas dashboard on http://{host}:{port} (database {store.display_url}); "
        f"reads {reads}, changes need a token: `codecnas token create --role admin`"
    )
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        store.close()


@token_app.command("create")
def token_create(
    role: Role = typer.Option(..., help="admin: run campaigns; viewer: read and rate; agent"),
    name: str = typer.Option(getpass.getuser(), help="who or what uses it (raters by this name)"),
    db: str | None = DbOption,
) -> None:
    """Make a token; its secret is printed once and only its SHA-256 is stored."""
    _, store = _open(db)
    with store:
        record, secret = store.create_token(name, role)
    console.print(f"token {record.id} for {record.name!r} with role {record.role.value}:")
    # Plain print: the secret on a line of its own, easy to copy or capture.
    print(secret)


@token_app.command("list")
def token_list(db: str | None = DbOption) -> None:
    """Tokens (never their secrets)."""
    _, store = _open(db)
    with store:
        tokens = store.tokens()
    table = Table("id", "name", "role", "created", "revoked")
    for t in tokens:
        revoked = t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else ""
        table.add_row(
            str(t.id), t.name, t.role.value, t.created_at.isoformat(timespec="seconds"), revoked
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(token_id: int, db: str | None = DbOption) -> None:
    """Revoke a token for good."""
    _, store = _open(db)
    with store:
        store.revoke_token(token_id)
    console.print(f"token {token_id} revoked")
