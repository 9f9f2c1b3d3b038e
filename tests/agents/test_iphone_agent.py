"""The Mac-side agent with the iPhone backend, against the simulated phone of tests/device_bench:
it registers as the phone (not the Mac), leases a Core ML package job, and the phone's report
becomes the stored result, cached under the phone's device name."""

from __future__ import annotations

import json
import os
import plistlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codecnas.local_agent import LocalJobBoard
from device_bench.agent import AgentOptions, run_agent
from device_bench.agent_protocol import describe_agent
from device_bench.coreml_export import package_to_bytes
from device_bench.iphone_backend import IPhoneBackend
from nas.bench_domain import BenchJobState
from nas.storage import CampaignStore
from tests.agents.onnx_models import conv_stack
from tests.device_bench.test_bench_iphone import SIMULATOR, UDID, _device

PACKAGE_STEM = "decoder"


@pytest.fixture
def phone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Xcode stand-ins on PATH, one attached phone, a built app, and the package's ONNX twin."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("xcrun", "xcodebuild"):
        script = tools / tool
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{SIMULATOR}" {tool} "$@"\n')
        script.chmod(0o755)
    root = tmp_path / "phone"
    root.mkdir()
    (root / "devices.json").write_text(json.dumps([_device(UDID)]))
    xctestrun = tmp_path / "CodecBench.xctestrun"
    xctestrun.write_bytes(
        plistlib.dumps({"CodecBenchTests": {"TestHostBundleIdentifier": "org.codecnas.CodecBench"}})
    )
    twins = tmp_path / "twins"
    twins.mkdir()
    (twins / f"{PACKAGE_STEM}.onnx").write_bytes(conv_stack(3, layers=2, channels=8))
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    monkeypatch.setenv("SIMULATED_IPHONE_ROOT", str(root))
    monkeypatch.setenv("SIMULATED_IPHONE_ONNX_DIR", str(twins))
    monkeypatch.delenv("SIMULATED_IPHONE_FAULT", raising=False)
    yield xctestrun


def package_bytes(folder: Path) -> bytes:
    """A package as the simulated compiler needs it (its manifest and spec file), zipped."""
    package = folder / f"{PACKAGE_STEM}.mlpackage"
    spec = package / "Data" / "com.apple.CoreML" / "model.mlmodel"
    spec.parent.mkdir(parents=True)
    spec.write_bytes(b"simulated model spec")
    (package / "Manifest.json").write_text(json.dumps({"fileFormatVersion": "1.0.0"}))
    return package_to_bytes(package)


def test_the_mac_side_agent_measures_on_the_phone_and_caches_under_its_name(
    phone: Path, tmp_path: Path
) -> None:
    store = CampaignStore(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "artifacts")
    try:
        sha = store.put_model_artifact(package_bytes(tmp_path))
        job = store.enqueue_bench_job(
            model_sha256=sha, model_format="mlpackage", part="decoder", backend="iphone", tile=64
        )
        backend = IPhoneBackend(UDID, phone, timeout_s=120)
        description = describe_agent(backend)
        assert (description.device, description.device_model) == ("ios-iphone17-1", "iPhone 16 Pro")
        assert description.os == "iOS 18.1" and description.details["udid"] == UDID

        options = AgentOptions(warmup=1, runs=3, cache_dir=tmp_path / "models")
        summary = run_agent(LocalJobBoard(store), backend, options=options, max_jobs=1)
        assert summary.measured == 1, store.bench_job(job.id).error
        done = store.bench_job(job.id)
        assert done.state is BenchJobState.DONE and done.result is not None
        assert done.result.device == "ios-iphone17-1" and done.result.runs == 3
        assert done.result.details["measured_device"] == "ios-iphone17-1"
        assert 0 < done.result.p50_ms <= done.result.p90_ms
    finally:
        store.close()
