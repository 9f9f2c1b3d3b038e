"""The iPhone agent's Mac side against a simulated device (tests/device_bench/simulated_iphone.py):
the commands, the report parsing, the protocol checks and the error handling are the real ones."""

from __future__ import annotations

import json
import os
import plistlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from device_bench.backends import BackendUnavailable, BenchmarkError
from device_bench.coreml_export import CoreMLExport, package_to_bytes
from device_bench.iphone_backend import IPhoneBackend
from device_bench.iphone_report import ReportError
from device_bench.protocol import TWELVE_MP, tiles_for
from tests.device_bench.conftest import COREML_TILE, EXPORT_TILE

UDID = "00008140-001A2B3C4D5E6F70"
TILE = COREML_TILE
assert EXPORT_TILE == COREML_TILE  # the ONNX twin must match the package's shapes
SIMULATOR = Path(__file__).with_name("simulated_iphone.py")


def _device(udid: str, state: str = "connected") -> dict:
    return {
        "identifier": "6F1D2E3A-0000-4000-8000-000000000001",
        "hardwareProperties": {
            "udid": udid,
            "productType": "iPhone17,1",
            "marketingName": "iPhone 16 Pro",
        },
        "deviceProperties": {"name": "Bench phone", "osVersionNumber": "18.1"},
        "connectionProperties": {"tunnelState": state, "transportType": "wired"},
    }


@pytest.fixture(scope="module")
def decoder_package(
    coreml_exports: dict[str, CoreMLExport], tiny_onnx_parts: dict[str, bytes]
) -> Path:
    """The tiny codec's fp16 decoder package, with its ONNX twin for the simulated phone."""
    package = coreml_exports["decoder-fp16"].package
    assert package is not None
    twins = package.parent / "twins"
    twins.mkdir(exist_ok=True)
    (twins / f"{package.stem}.onnx").write_bytes(tiny_onnx_parts["decoder"])
    return package


@pytest.fixture
def phone(tmp_path: Path, decoder_package: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A Mac with Xcode stand-ins on PATH, one attached phone, and a built app (.xctestrun)."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("xcrun", "xcodebuild"):
        script = tools / tool
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{SIMULATOR}" {tool} "$@"\n')
        script.chmod(0o755)
    root = tmp_path / "phone"
    root.mkdir()
    (root / "devices.json").write_text(json.dumps([_device(UDID), _device("OTHER", "unavailable")]))
    xctestrun = tmp_path / "CodecBench.xctestrun"
    xctestrun.write_bytes(
        plistlib.dumps({"CodecBenchTests": {"TestHostBundleIdentifier": "org.codecnas.CodecBench"}})
    )
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    monkeypatch.setenv("SIMULATED_IPHONE_ROOT", str(root))
    monkeypatch.setenv("SIMULATED_IPHONE_ONNX_DIR", str(decoder_package.parent / "twins"))
    monkeypatch.delenv("SIMULATED_IPHONE_FAULT", raising=False)
    yield xctestrun


def test_happy_path_measures_on_the_phone(phone: Path, decoder_package: Path) -> None:
    backend = IPhoneBackend(UDID, phone, timeout_s=120)
    assert backend.describe()["model"] == "iPhone17,1"
    assert backend.describe()["os"] == "iOS 18.1"
    result = backend.benchmark(decoder_package, part="decoder", tile=TILE, warmup=1, runs=5)
    assert (result.device, result.backend, result.part) == (
        "ios-iphone17-1",
        "iphone-all",
        "decoder",
    )
    assert (result.tile, result.warmup, result.runs, result.precision) == (TILE, 1, 5, "fp16")
    assert len(result.timings_ms) == 5
    assert 0 < result.p50_ms <= result.p90_ms <= max(result.timings_ms)
    assert result.cold_ms > 0
    assert result.estimate_12mp_ms == result.p50_ms * tiles_for(*TWELVE_MP, TILE)
    # the app removed the job's model after the run: nothing piles up on the phone
    jobs = Path(os.environ["SIMULATED_IPHONE_ROOT"]).glob(
        "containers/*/*/Documents/codecnas/jobs/*"
    )
    assert list(jobs) == []


def test_package_bytes_are_accepted_as_the_artifact(phone: Path, decoder_package: Path) -> None:
    result = IPhoneBackend(UDID, phone).benchmark(
        package_to_bytes(decoder_package), tile=TILE, warmup=0, runs=2
    )
    assert len(result.timings_ms) == 2


def test_a_missing_device_stops_the_agent_at_start(phone: Path) -> None:
    with pytest.raises(BackendUnavailable, match=r"no iPhone with UDID 1234 .*00008140"):
        IPhoneBackend("1234", phone)
    with pytest.raises(
        BackendUnavailable, match="no iPhone with UDID OTHER"
    ):  # listed, unavailable
        IPhoneBackend("OTHER", phone)


def test_a_device_unplugged_before_the_run_is_a_benchmark_error(
    phone: Path, decoder_package: Path
) -> None:
    backend = IPhoneBackend(UDID, phone)
    root = Path(os.environ["SIMULATED_IPHONE_ROOT"])
    (root / "devices.json").write_text(json.dumps([]))
    with pytest.raises(BenchmarkError, match=r"(?s)exit 1.*device was not found"):
        backend.benchmark(decoder_package, tile=TILE, runs=2)


# Stale, failed and inconsistent reports are parsed in test_bench_iphone_report.py; these two
# faults also exercise the copy back from the phone.
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("malformed-report", "report is not valid JSON"),
        ("no-report", "the app left no report"),
    ],
)
def test_bad_reports_are_rejected(
    phone: Path, decoder_package: Path, monkeypatch: pytest.MonkeyPatch, fault: str, message: str
) -> None:
    backend = IPhoneBackend(UDID, phone)
    monkeypatch.setenv("SIMULATED_IPHONE_FAULT", fault)
    with pytest.raises(ReportError, match=message):
        backend.benchmark(decoder_package, tile=TILE, warmup=0, runs=2)


def test_no_xcode_means_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackendUnavailable, match="'xcrun' is not on PATH.*Xcode"):
        IPhoneBackend(UDID, tmp_path / "missing.xctestrun")


def test_unbuilt_app_means_unavailable(phone: Path) -> None:
    with pytest.raises(BackendUnavailable, match="no .xctestrun file at .*build-for-testing"):
        IPhoneBackend(UDID, phone.with_name("missing.xctestrun"))


def test_a_package_that_does_not_compile_is_a_benchmark_error(phone: Path, tmp_path: Path) -> None:
    package = tmp_path / "stranger.mlpackage"  # valid folder, but no ONNX twin on this "phone"
    package.mkdir()
    (package / "Manifest.json").write_text("{}")
    with pytest.raises(BenchmarkError, match="compiling stranger.mlpackage failed"):
        IPhoneBackend(UDID, phone).benchmark(package, tile=TILE, runs=1)
