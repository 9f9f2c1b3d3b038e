"""Settings of the dashboard application; the CLI builds them from the environment."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

# The campaign runner is a separate process, so that the web process never imports Ray.
DEFAULT_CAMPAIGN_COMMAND: tuple[str, ...] = (
    sys.executable,
    "-m",
    "codecnas.cli",
    "campaign",
    "resume",
)


@dataclass(frozen=True)
class DashboardSettings:
    """``read_requires_token``: reads need a token too (any role); writes always need one.

    ``cache_dir``: anchor images encoded at a trial's bpp and anchor rate–quality curves.
    ``campaign_command``: argv that runs a campaign; the campaign name, ``--db URL`` follow.
    ``campaign_env``: extra environment of campaign processes (artifact root, caches).
    ``log_dir``: one log file per campaign process started from the dashboard.
    ``stop_campaigns_on_shutdown``: interrupt (resumably) the campaigns this server started.
    """

    cache_dir: Path
    log_dir: Path
    read_requires_token: bool = False
    anchor_cache: Path | None = None
    campaign_command: tuple[str, ...] = DEFAULT_CAMPAIGN_COMMAND
    campaign_env: dict[str, str] = field(default_factory=dict)
    poll_seconds: float = 5.0
    stop_campaigns_on_shutdown: bool = True
