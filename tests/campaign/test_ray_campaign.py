"""Real campaigns: the `codecnas` command, local Ray, real training, SQLite on disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from nas.domain import TrialState
from nas.storage.repository import CampaignStore
from tests.conftest import tiny_spec

pytestmark = pytest.mark.slow


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, CODECNAS_HOME=str(home), RAY_USAGE_STATS_ENABLED="0")
    env.pop("CODECNAS_DATABASE_URL", None)
    return env


def _codecnas(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codecnas.cli", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _write_spec(tmp_path: Path, **overrides) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(tiny_spec(**overrides)))
    return path


def _store(home: Path) -> CampaignStore:
    return CampaignStore(f"sqlite:///{home / 'codecnas.sqlite'}", home / "artifacts")


def test_campaign_on_local_ray_ends_with_a_front_and_exports_a_working_codec(tmp_path):
    home = tmp_path / "home"
    # The pico space, screened to codecs a few seconds of CPU training can handle.
    spec = _write_spec(
        tmp_path,
        space="pico",
        budget={"trials": 3, "parallel": 2},
        screen={"decoder_kmacs_max": 2.5},
        training={"crop_size": 64, "steps": 6},
    )
    result = _codecnas(home, "campaign", "launch", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Pareto front of 'tiny'" in result.stdout

    store = _store(home)
    (campaign,) = store.campaigns()
    trials = store.trials(campaign.id)
    assert len(trials) == 3
    assert all(t.state == TrialState.COMPLETE for t in trials), [t.error for t in trials]
    front = store.front(campaign.id)
    assert front, "the front must not be empty"
    for t in trials:
        assert t.metrics["bpp"] > 0 and t.metrics["decode_ms_12mp"] > 0
        (m,) = store.measurements(t.id)
        assert (m.backend, m.part, m.tile, m.runs) == ("onnxruntime", "decoder", 64, 2)
        assert m.p50_ms <= m.p90_ms
    workers = {t.worker for t in trials}
    assert all(w for w in workers)

    out = tmp_path / "best"
    # Core ML conversion of front codecs has its own test (test_bench_coreml_export.py).
    result = _codecnas(
        home, "best", "tiny", "--decode-ms", "1e9", "--export", str(out), "--no-coreml"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {p.name for p in out.iterdir()} >= {
        "config.json",
        "model.pt",
        "decoder.onnx",
        "measurements.json",
    }
    image = Path(__file__).parent / "probe.png"
    _write_probe_png(image)
    encoded, decoded = tmp_path / "probe.cnas", tmp_path / "probe_decoded.png"
    result = _codecnas(home, "codec", "encode", str(out), str(image), str(encoded))
    assert result.returncode == 0, result.stderr
    result = _codecnas(home, "codec", "decode", str(out), str(encoded), str(decoded))
    assert result.returncode == 0, result.stderr
    from PIL import Image

    assert Image.open(decoded).size == Image.open(image).size

    nothing = _codecnas(home, "best", "tiny", "--decode-ms", "0.001")
    assert nothing.returncode == 1
    assert "no trial meets decode_ms_12mp <= 0.001" in nothing.stdout
    assert "closest is trial" in nothing.stdout


def _write_probe_png(path: Path) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = (rng.random((45, 61, 3)) * 255).astype("uint8")
    Image.fromarray(pixels).save(path)


def test_trials_that_raise_are_stored_as_failed_and_the_campaign_finishes(tmp_path):
    home = tmp_path / "home"
    spec = _write_spec(
        tmp_path,
        budget={"trials": 2, "parallel": 2},
        data={"train": str(tmp_path / "no-such-folder"), "eval": "skimage:chelsea"},
    )
    result = _codecnas(home, "campaign", "launch", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    store = _store(home)
    trials = store.trials(store.campaign("tiny").id)
    assert [t.state for t in trials] == [TrialState.FAILED] * 2
    assert all("no-such-folder" in (t.error or "") for t in trials), [t.error for t in trials]
    assert "failed trials" in result.stdout


def test_killed_campaign_resumes_from_the_database(tmp_path):
    home = tmp_path / "home"
    spec = _write_spec(tmp_path, budget={"trials": 4, "parallel": 1}, training={"steps": 30})
    proc = subprocess.Popen(
        [sys.executable, "-m", "codecnas.cli", "campaign", "launch", str(spec)],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    store = None
    try:
        while time.monotonic() < deadline:
            time.sleep(1)
            if not (home / "codecnas.sqlite").exists():
                continue
            store = store or _store(home)
            counts = store.count_trials(store.campaign("tiny").id) if store.campaigns() else {}
            if counts.get(TrialState.COMPLETE, 0) >= 1 and counts.get(TrialState.RUNNING, 0) >= 1:
                break
        else:
            pytest.fail("the campaign did not reach a finished and a running trial in time")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the controller and its local Ray, mid-trial
        proc.wait()

    assert store is not None
    campaign = store.campaign("tiny")
    before = {t.id: t for t in store.trials(campaign.id)}
    finished = {i: t for i, t in before.items() if t.state.is_finished}
    running = [t for t in before.values() if t.state == TrialState.RUNNING]
    assert finished and running

    result = _codecnas(home, "campaign", "resume", "tiny")
    assert result.returncode == 0, result.stdout + result.stderr
    after = {t.id: t for t in store.trials(campaign.id)}
    assert len(after) == 4
    assert all(t.state == TrialState.COMPLETE for t in after.values()), [
        t.error for t in after.values()
    ]
    for trial_id, trial in finished.items():
        assert after[trial_id] == trial, "a finished trial was run again or changed"
    for trial in running:
        assert after[trial.id].attempts == trial.attempts + 1
    assert store.front(campaign.id)
