import platform
import re

from device_bench.device import cpu_model_from_cpuinfo, describe_device, slugify

X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu vme

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
"""

RASPBERRY_PI_CPUINFO = """processor\t: 0
Processor\t: 0
BogoMIPS\t: 38.40
Hardware\t: BCM2835
Model\t\t: Raspberry Pi 3 Model B Rev 1.2
"""

AARCH64_CPUINFO = """processor\t: 0
BogoMIPS\t: 50.00
CPU implementer\t: 0x41
"""


def test_cpu_model_is_read_from_cpuinfo() -> None:
    assert cpu_model_from_cpuinfo(X86_CPUINFO) == "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"
    assert cpu_model_from_cpuinfo(RASPBERRY_PI_CPUINFO) == "BCM2835"
    assert cpu_model_from_cpuinfo(AARCH64_CPUINFO) is None


def test_slug_drops_trademarks_clock_and_filler() -> None:
    assert slugify("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz") == "intel-xeon-platinum-8375c"
    assert slugify("AMD Ryzen 9 5950X 16-Core Processor") == "amd-ryzen-9-5950x"
    assert slugify("Apple M2 Pro") == "apple-m2-pro"
    assert slugify("(R)") == "unknown"
    assert len(slugify("x" * 200)) == 40


def test_this_device_has_a_stable_short_name() -> None:
    device = describe_device()
    assert re.fullmatch(r"[a-z0-9_]+(-[a-z0-9_]+)+", device.name), device.name
    assert device.name.startswith(f"{platform.system().lower()}-{platform.machine().lower()}-")
    assert device.cpu_model
    assert device.logical_cores >= device.usable_cores >= 1
    describe_device.cache_clear()
    assert describe_device() == device
