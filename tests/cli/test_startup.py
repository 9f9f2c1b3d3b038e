"""The CLI starts without the heavy libraries: each command loads what it uses (issue: 7 s to
print --help). Checked by what a fresh interpreter has imported, not by a clock."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "onnx", "onnxruntime", "coremltools", "ray", "sqlalchemy", "alembic", "choix")


def _imported_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint('IMPORTED:', *(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    last = result.stdout.splitlines()[-1]  # --help prints its text first
    assert last.startswith("IMPORTED:"), result.stdout
    return last.split()[1:]


def test_help_loads_none_of_the_heavy_libraries() -> None:
    code = (
        "import sys\nfrom codecnas.cli import app\nsys.argv = ['codecnas', '--help']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    assert _imported_after(code) == []


@pytest.mark.parametrize("module", ["nas.spec", "nas.storage.access", "codec.loss_weights"])
def test_light_modules_stay_light(module: str) -> None:
    assert _imported_after(f"import {module}") == []


def test_a_current_database_opens_without_alembic(tmp_path: object) -> None:
    code = (
        "from nas.storage.repository import CampaignStore\n"
        f"CampaignStore('sqlite:///{tmp_path}/a.sqlite', '{tmp_path}/art')\n"  # creates: Alembic
        "import sys\nfor name in [m for m in sys.modules if m.startswith('alembic')]:\n"
        "    del sys.modules[name]\n"
        f"CampaignStore('sqlite:///{tmp_path}/a.sqlite', '{tmp_path}/art')"  # opens: no Alembic
    )
    assert "alembic" not in _imported_after(code)
