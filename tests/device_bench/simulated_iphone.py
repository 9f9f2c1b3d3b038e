"""A simulated iPhone behind stand-ins for `xcrun` and `xcodebuild`.

Tests put two executables named `xcrun` and `xcodebuild` on PATH that run this module. State
lives under $SIMULATED_IPHONE_ROOT:
    devices.json                      attached devices, as `devicectl list devices` reports them
    containers/<udid>/<bundle id>/    each app's data container
The "phone" runs the ONNX twin of a package ($SIMULATED_IPHONE_ONNX_DIR/<package stem>.onnx,
placed in the .mlmodelc by the simulated compiler) with ONNX Runtime, times it as the Swift app
does (load, first prediction, warm-ups, timed runs, linear-interpolation percentiles) and writes
the app's report. $SIMULATED_IPHONE_FAULT injects failures: "malformed-report", "no-report",
"stale-report", "app-error".
"""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("SIMULATED_IPHONE_ROOT", "/nonexistent"))
FAULT = os.environ.get("SIMULATED_IPHONE_FAULT", "")


def _devices() -> list[dict]:
    return json.loads((ROOT / "devices.json").read_text())


def _attached(udid: str) -> bool:
    return any(
        d["hardwareProperties"]["udid"] == udid
        and d["connectionProperties"]["tunnelState"] != "unavailable"
        for d in _devices()
    )


def _option(args: list[str], name: str) -> str:
    if name not in args or args.index(name) + 1 >= len(args):
        sys.exit(f"error: missing {name}")
    return args[args.index(name) + 1]


def _container(args: list[str]) -> Path:
    udid = _option(args, "--device")
    if not _attached(udid):
        print(f"ERROR: The specified device was not found. ({udid})", file=sys.stderr)
        sys.exit(1)
    return ROOT / "containers" / udid / _option(args, "--domain-identifier")


def devicectl(args: list[str]) -> None:
    if args[:2] == ["list", "devices"]:
        output = Path(_option(args, "--json-output"))
        output.write_text(
            json.dumps({"info": {"outcome": "success"}, "result": {"devices": _devices()}})
        )
        return
    if args[:2] == ["device", "copy"]:
        container = _container(args)
        source, destination = _option(args, "--source"), _option(args, "--destination")
        if args[2] == "to":
            if not Path(source).is_file():
                sys.exit(f"ERROR: {source} is not a file")
            target = container / destination
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        else:
            if not (container / source).is_file():
                print(f"ERROR: The file {source} does not exist on the device.", file=sys.stderr)
                sys.exit(1)
            shutil.copyfile(container / source, destination)
        return
    sys.exit(f"devicectl: unknown command {args}")


def coremlcompiler(args: list[str]) -> None:
    if args[:1] != ["compile"] or len(args) != 3:
        sys.exit(f"coremlcompiler: usage: compile <model.mlpackage> <output dir>, got {args}")
    package, out = Path(args[1]), Path(args[2])
    if not (package / "Manifest.json").is_file():
        print(f"coremlcompiler: error: {package} is not a valid .mlpackage", file=sys.stderr)
        sys.exit(1)
    twin = (
        Path(os.environ.get("SIMULATED_IPHONE_ONNX_DIR", "/nonexistent")) / f"{package.stem}.onnx"
    )
    if not twin.is_file():
        print(
            f"coremlcompiler: error: the simulated device has no ONNX twin {twin}", file=sys.stderr
        )
        sys.exit(1)
    compiled = out / f"{package.stem}.mlmodelc"
    (compiled / "weights").mkdir(parents=True)
    spec = package / "Data" / "com.apple.CoreML" / "model.mlmodel"
    shutil.copyfile(spec, compiled / "coremldata.bin")
    shutil.copyfile(twin, compiled / "weights" / "model.onnx")
    print(f"{compiled}/coremldata.bin")


def _percentile(sorted_values: list[float], q: float) -> float:
    # Linear interpolation between closest ranks, as numpy and the Swift app compute it.
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _run_app(container: Path, device: dict) -> None:
    import numpy as np  # imported here: the other stand-in commands must start fast
    import onnxruntime as ort

    job_root = container / "Documents" / "codecnas"
    request = json.loads((job_root / "request.json").read_text())
    (job_root / "report.json").unlink(missing_ok=True)
    report = {
        "format": "codecnas-bench-report/1",
        "job_id": "0" * 32 if FAULT == "stale-report" else request["job_id"],
        **{
            key: request[key]
            for key in ("model", "part", "tile", "compute_units", "warmup", "runs")
        },
        "device": {
            "model": device["hardwareProperties"]["productType"],
            "name": device["deviceProperties"]["name"],
            "os": "iOS " + device["deviceProperties"]["osVersionNumber"],
        },
        "error": None,
    }
    model = job_root / request["model"] / "weights" / "model.onnx"
    if FAULT == "app-error":
        report["error"] = f"MLModel could not load {request['model']}: simulated failure"
    else:
        start = time.perf_counter()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        load_ms = (time.perf_counter() - start) * 1000
        rng = np.random.default_rng(0)
        feeds = {
            i.name: (
                rng.random(i.shape) if i.name == "x" else np.round(2 * rng.standard_normal(i.shape))
            ).astype(np.float32)
            for i in session.get_inputs()
        }
        start = time.perf_counter()
        session.run(None, feeds)
        first_ms = (time.perf_counter() - start) * 1000
        for _ in range(request["warmup"]):
            session.run(None, feeds)
        timings = []
        for _ in range(request["runs"]):
            start = time.perf_counter()
            session.run(None, feeds)
            timings.append((time.perf_counter() - start) * 1000)
        ordered = sorted(timings)
        report.update(
            load_ms=load_ms,
            first_prediction_ms=first_ms,
            timings_ms=timings,
            p50_ms=_percentile(ordered, 0.5),
            p90_ms=_percentile(ordered, 0.9),
        )
    shutil.rmtree(job_root / Path(request["model"]).parent, ignore_errors=True)
    if FAULT == "no-report":
        return
    text = json.dumps(report)
    (job_root / "report.json").write_text(
        text[: len(text) // 2] if FAULT == "malformed-report" else text
    )


def xcodebuild(args: list[str]) -> None:
    if not args or args[0] != "test-without-building":
        sys.exit(f"xcodebuild: this simulation runs test-without-building only, got {args}")
    xctestrun = Path(_option(args, "-xctestrun"))
    if not xctestrun.is_file():
        print(f"xcodebuild: error: The file {xctestrun} couldn't be opened.", file=sys.stderr)
        sys.exit(65)
    udid = _option(args, "-destination").removeprefix("id=")
    if not _attached(udid):
        print(
            "xcodebuild: error: Unable to find a destination matching the provided destination "
            f"specifier:\n\t\t{{ id:{udid} }}",
            file=sys.stderr,
        )
        sys.exit(70)
    device = next(d for d in _devices() if d["hardwareProperties"]["udid"] == udid)
    # An .xctestrun plist names each test target's host app (format version 1).
    targets = plistlib.loads(xctestrun.read_bytes())
    bundle = targets["CodecBenchTests"]["TestHostBundleIdentifier"]
    _run_app(ROOT / "containers" / udid / bundle, device)
    print("Test Suite 'All tests' passed.\n** TEST EXECUTE SUCCEEDED **")


def main() -> None:
    tool, args = sys.argv[1], sys.argv[2:]
    if tool == "xcodebuild":
        xcodebuild(args)
    elif args[:1] == ["devicectl"]:
        devicectl(args[1:])
    elif args[:1] == ["coremlcompiler"]:
        coremlcompiler(args[1:])
    else:
        sys.exit(f"xcrun: unknown tool {args[:1]}")


if __name__ == "__main__":
    main()
