"""The compose file is validated by docker-compose itself (no container engine runs here)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = shutil.which("docker-compose")
needs_compose = pytest.mark.skipif(COMPOSE is None, reason="docker-compose (Debian) not installed")


def _config(env_file: Path) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    return subprocess.run(
        [
            COMPOSE,
            "--project-directory",
            str(REPO),
            "-f",
            str(REPO / "docker-compose.yml"),
            "--env-file",
            str(env_file),
            "config",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_compose
def test_compose_file_validates_with_the_documented_env():
    result = _config(REPO / ".env.example")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert {"postgres", "ray-head", "ray-worker", "api", "agent"} <= set(config["services"])
    worker = config["services"]["ray-worker"]
    assert "container_name" not in worker and "ports" not in worker, "workers must scale"
    for name in ("ray-head", "ray-worker", "api", "agent"):
        assert config["services"][name]["environment"]["RAY_AUTH_MODE"] == "token"


@needs_compose
def test_compose_refuses_to_render_without_secrets(tmp_path):
    env = tmp_path / ".env"
    env.write_text("CODECNAS_PROFILE=production\n")
    result = _config(env)
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stderr


def test_env_example_has_no_usable_secrets():
    values = dict(
        line.split("=", 1)
        for line in (REPO / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for key in (
        "POSTGRES_PASSWORD",
        "RAY_AUTH_TOKEN",
        "CODECNAS_ADMIN_TOKEN",
        "CODECNAS_AGENT_TOKEN",
    ):
        assert values[key] == "CHANGE_ME", f"{key} must be a placeholder in .env.example"
