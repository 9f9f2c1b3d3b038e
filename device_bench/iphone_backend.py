"""An iPhone attached to this Mac, driven through Xcode's command-line tools.

Per job: compile the package (`xcrun coremlcompiler compile`), copy the compiled model and a
request into the benchmark app's Documents folder (`xcrun devicectl device copy to`), run the
app's XCTest on the phone (`xcodebuild test-without-building -xctestrun ... -destination id=UDID`,
as ExecuTorch's Apple benchmark app is run), and copy its report back (`devicectl device copy
from`). The app is built once (ios/SETUP.md); models travel as data, so nothing is rebuilt or
re-signed per model. Every command goes through `run`, and the tool names are settings, so tests
drive the agent against a simulated device.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from device_bench.backends import Artifact, BackendUnavailable, BenchmarkError
from device_bench.coreml_backend import check_compute_units
from device_bench.coreml_export import package_from_bytes
from device_bench.iphone_report import (
    REPORT_FILE,
    REQUEST_FILE,
    BenchmarkRequest,
    ReportError,
    parse_report,
)
from device_bench.parts import check_part
from device_bench.protocol import LatencyResult

DEFAULT_BUNDLE_ID = "org.codecnas.CodecBench"
TEST_IDENTIFIER = "CodecBenchTests/CodecBenchTests/testBenchmarkRequest"
# Inside the app's data container: request.json and report.json here, each job's model in
# jobs/<job id>/ (the app deletes it after the run, so old models never pile up or mix).
JOB_ROOT = "Documents/codecnas"
COMPILED_MODEL = "model.mlmodelc"

Runner = Callable[[Sequence[str], float], "subprocess.CompletedProcess[str]"]


def run_command(command: Sequence[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), capture_output=True, text=True, timeout=timeout_s, check=False
    )


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class IPhoneBackend:
    """Benchmarks `.mlpackage` artifacts on one attached iPhone through the CodecBench app."""

    name = "iphone"
    artifact_format = "mlpackage"

    def __init__(
        self,
        udid: str,
        xctestrun: str | Path,
        *,
        bundle_id: str = DEFAULT_BUNDLE_ID,
        compute_units: str = "all",
        xcrun: str = "xcrun",
        xcodebuild: str = "xcodebuild",
        timeout_s: float = 900.0,
        run: Runner = run_command,
    ) -> None:
        if not udid:
            raise ValueError("udid must name the iPhone (xcrun devicectl list devices)")
        self.udid = udid
        self.xctestrun = Path(xctestrun)
        self.bundle_id = bundle_id
        self.compute_units = check_compute_units(compute_units)
        self.xcrun = xcrun
        self.xcodebuild = xcodebuild
        self.timeout_s = timeout_s
        self._run = run
        for tool in (xcrun, xcodebuild):
            if shutil.which(tool) is None:
                raise BackendUnavailable(
                    f"{tool!r} is not on PATH: the iPhone backend runs on a Mac with Xcode 15 or "
                    f"later and an attached iPhone (see ios/SETUP.md)"
                )
        if not self.xctestrun.is_file():
            raise BackendUnavailable(
                f"no .xctestrun file at {self.xctestrun}: build the benchmark app once with "
                f"ios/scripts/build-for-testing.sh (see ios/SETUP.md)"
            )
        self.device = self._find_device()

    # ---- commands ------------------------------------------------------------------------

    def _call(self, command: Sequence[str], what: str) -> subprocess.CompletedProcess[str]:
        try:
            completed = self._run(command, self.timeout_s)
        except subprocess.TimeoutExpired as error:
            raise BenchmarkError(f"{what} took over {self.timeout_s:g} s: {error.cmd}") from error
        except OSError as error:
            raise BenchmarkError(f"{what}: cannot run {command[0]!r}: {error}") from error
        if completed.returncode != 0:
            output = _tail(completed.stderr or "") or _tail(completed.stdout or "")
            raise BenchmarkError(
                f"{what} failed (exit {completed.returncode}): {' '.join(command)}\n{output}"
            )
        return completed

    def _devicectl_copy(self, direction: str, source: str | Path, destination: str | Path) -> None:
        self._call(
            [
                self.xcrun, "devicectl", "device", "copy", direction,
                "--device", self.udid,
                "--domain-type", "appDataContainer",
                "--domain-identifier", self.bundle_id,
                "--source", str(source),
                "--destination", str(destination),
            ],
            f"copying {direction} the iPhone {self.udid}",
        )  # fmt: skip

    def _find_device(self) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="codecnas-devices-") as scratch:
            listing = Path(scratch) / "devices.json"
            try:
                self._call(
                    [self.xcrun, "devicectl", "list", "devices", "--json-output", str(listing)],
                    "listing attached devices",
                )
                devices = json.loads(listing.read_text(encoding="utf-8"))["result"]["devices"]
            except (BenchmarkError, OSError, ValueError, KeyError, TypeError) as error:
                raise BackendUnavailable(f"cannot list the attached devices: {error}") from error
        udids = [d.get("hardwareProperties", {}).get("udid") for d in devices]
        for device, udid in zip(devices, udids, strict=True):
            state = device.get("connectionProperties", {}).get("tunnelState")
            if udid == self.udid and state != "unavailable":
                return dict(device)
        raise BackendUnavailable(
            f"no iPhone with UDID {self.udid} is attached and available; "
            f"devices seen: {[u for u in udids if u] or 'none'}"
        )

    def describe(self) -> dict[str, str]:
        """The phone, for agent registration (model, OS, runtime, compute units)."""
        hardware = self.device.get("hardwareProperties", {})
        properties = self.device.get("deviceProperties", {})
        return {
            "udid": self.udid,
            "model": str(hardware.get("productType", "unknown")),
            "marketing_name": str(hardware.get("marketingName", "")),
            "os": f"iOS {properties.get('osVersionNumber', 'unknown')}",
            "runtime": "coreml",
            "compute_units": self.compute_units,
        }

    # ---- one job -------------------------------------------------------------------------

    def benchmark(
        self,
        artifact: Artifact,
        *,
        part: str = "decoder",
        tile: int = 512,
        warmup: int = 3,
        runs: int = 10,
        inputs: Mapping[str, np.ndarray] | None = None,
        precision: str = "fp16",
    ) -> LatencyResult:
        """Compile, ship, run on the phone and read its report (raises BenchmarkError)."""
        check_part(part)
        if inputs is not None:
            raise ValueError("the app synthesises its inputs on the phone; pass inputs=None")
        if warmup < 0 or runs < 1:
            raise ValueError(f"need warmup >= 0 and runs >= 1, got warmup={warmup} runs={runs}")
        with tempfile.TemporaryDirectory(prefix="codecnas-iphone-") as scratch_dir:
            scratch = Path(scratch_dir)
            package = (
                package_from_bytes(artifact, scratch / "package")
                if isinstance(artifact, bytes)
                else Path(artifact)
            )
            job_id = uuid.uuid4().hex
            model_dir = f"jobs/{job_id}/{COMPILED_MODEL}"
            compiled = self._compile(package, scratch / "compiled")
            request = BenchmarkRequest(
                job_id=job_id,
                model=model_dir,
                part=part,
                tile=tile,
                warmup=warmup,
                runs=runs,
                compute_units=self.compute_units,
                precision=precision,
            )
            # File by file (devicectl copies files), the request last: the app never finds a
            # request whose model is still on its way.
            for path in sorted(p for p in compiled.rglob("*") if p.is_file()):
                relative = path.relative_to(compiled).as_posix()
                self._devicectl_copy("to", path, f"{JOB_ROOT}/{model_dir}/{relative}")
            request_file = scratch / REQUEST_FILE
            request_file.write_text(request.to_json(), encoding="utf-8")
            self._devicectl_copy("to", request_file, f"{JOB_ROOT}/{REQUEST_FILE}")
            self._run_test()
            report = scratch / REPORT_FILE
            try:
                self._devicectl_copy("from", f"{JOB_ROOT}/{REPORT_FILE}", report)
            except BenchmarkError as error:
                raise ReportError(f"the app left no report on the phone: {error}") from error
            if not report.is_file():
                raise ReportError(f"copying the report from the phone gave no file at {report}")
            return parse_report(
                report.read_text(encoding="utf-8"), request, f"{self.name}-{self.compute_units}"
            )

    def _compile(self, package: Path, out: Path) -> Path:
        """`xcrun coremlcompiler compile` into `out`; returns the .mlmodelc folder."""
        if not (package / "Manifest.json").is_file():
            raise ValueError(f"{package} is not a Core ML package (no Manifest.json)")
        out.mkdir()
        self._call(
            [self.xcrun, "coremlcompiler", "compile", str(package), str(out)],
            f"compiling {package.name}",
        )
        compiled = out / f"{package.stem}.mlmodelc"
        if not compiled.is_dir():
            raise BenchmarkError(f"coremlcompiler reported success but wrote no {compiled}")
        return compiled

    def _run_test(self) -> None:
        self._call(
            [
                self.xcodebuild, "test-without-building",
                "-xctestrun", str(self.xctestrun),
                "-destination", f"id={self.udid}",
                f"-only-testing:{TEST_IDENTIFIER}",
            ],
            f"running the benchmark app on the iPhone {self.udid}",
        )  # fmt: skip
