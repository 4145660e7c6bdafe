"""alops.hardware: nvidia-smi's XML read, a fake nvidia-smi on PATH (the machine's edge), torch's build."""

from __future__ import annotations

import os
import time
from importlib import metadata
from pathlib import Path

import pytest

from alops import hardware
from alops.hardware import Device, Gpu, Torch

# Trimmed from `nvidia-smi -q -x` on a driver 570 machine (the elements alops reads, and neighbours).
H200_XML = """<?xml version="1.0" ?>
<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">
<nvidia_smi_log>
    <timestamp>Wed Dec  2 12:00:00 2026</timestamp>
    <driver_version>570.124.06</driver_version>
    <cuda_version>12.8</cuda_version>
    <attached_gpus>2</attached_gpus>
    <gpu id="00000000:18:00.0">
        <product_name>NVIDIA H200</product_name>
        <product_brand>NVIDIA</product_brand>
        <fb_memory_usage>
            <total>143771 MiB</total>
            <reserved>551 MiB</reserved>
            <used>1 MiB</used>
            <free>143219 MiB</free>
        </fb_memory_usage>
        <bar1_memory_usage>
            <total>262144 MiB</total>
        </bar1_memory_usage>
    </gpu>
    <gpu id="00000000:2A:00.0">
        <product_name>NVIDIA A100-SXM4-80GB, rev &lt;b&gt;</product_name>
        <fb_memory_usage>
            <total>N/A</total>
        </fb_memory_usage>
    </gpu>
</nvidia_smi_log>
"""


def smi_xml(name: str = "NVIDIA H200", memory: str = "143771 MiB", driver: str = "570.1", cuda: str = "12.8") -> str:
    """nvidia-smi -q -x's answer for one GPU."""
    return (
        f"<?xml version='1.0' ?>\n<nvidia_smi_log><driver_version>{driver}</driver_version>"
        f"<cuda_version>{cuda}</cuda_version><gpu id='0'><product_name>{name}</product_name>"
        f"<fb_memory_usage><total>{memory}</total></fb_memory_usage></gpu></nvidia_smi_log>\n"
    )


def fake_nvidia_smi(folder: Path, output: str, code: int = 0, *, sleep: float = 0) -> str:
    """A PATH holding an nvidia-smi that checks its arguments, prints ``output`` (and the real tools after it)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n"
        '[ "$*" = "-q -x" ] || { echo "unexpected arguments: $*" >&2; exit 64; }\n'
        f"sleep {sleep}\ncat <<'END'\n{output}END\nexit {code}\n"
    )
    script.chmod(0o755)
    return f"{folder}:{os.environ['PATH']}"


def test_parse_reads_gpus_driver_and_cuda_from_the_xml() -> None:
    assert hardware.parse_nvidia_smi(H200_XML) == (
        (
            Gpu("NVIDIA H200", 143771, "570.124.06"),
            Gpu("NVIDIA A100-SXM4-80GB, rev <b>", None, "570.124.06"),  # N/A memory; the name unescaped as given
        ),
        "570.124.06",
        "12.8",
    )


def test_parse_without_gpus_or_not_xml() -> None:
    none = "<nvidia_smi_log><driver_version>535.1</driver_version><attached_gpus>0</attached_gpus></nvidia_smi_log>"
    assert hardware.parse_nvidia_smi(none) == ((), "535.1", None)
    assert hardware.parse_nvidia_smi("NVIDIA-SMI has failed because it couldn't communicate with the driver\n") is None
    assert hardware.parse_nvidia_smi("<other><gpu/></other>") is None


def test_probe_with_a_gpu_visible(tmp_path: Path) -> None:
    path = fake_nvidia_smi(tmp_path / "bin", smi_xml())
    device = hardware.probe({"PATH": path})
    assert (device.gpus, device.driver, device.cuda, device.visible) == (
        (Gpu("NVIDIA H200", 143771, "570.1"),),
        "570.1",
        "12.8",
        None,
    )
    # The installed torch is the CPU build (scripts/ensure-torch): it cannot use the GPU.
    assert (device.torch, device.kind) == (Torch(metadata.version("torch"), None), "cpu")


def test_kind_follows_the_gpus_their_visibility_and_torch_s_build() -> None:
    gpu = (Gpu("NVIDIA H200", 143771, "570.1"),)
    cuda_torch, cpu_torch = Torch("2.13.0+cu128", "12.8"), Torch("2.13.0+cpu", None)
    for gpus, visible, torch, kind in [
        (gpu, None, cuda_torch, "cuda"),
        (gpu, "0", None, "cuda"),  # no torch installed: the GPU is there for whatever trains
        (gpu, "", cuda_torch, "cpu"),
        (gpu, "-1", cuda_torch, "cpu"),
        (gpu, " -1,0", cuda_torch, "cpu"),  # CUDA stops at the first invalid index
        (gpu, "GPU-45535fc5", cuda_torch, "cuda"),  # a UUID names a device
        (gpu, None, cpu_torch, "cpu"),
        ((), None, cuda_torch, "cpu"),
    ]:
        assert hardware.kind(gpus, visible, torch) == kind, (gpus, visible, torch)


def test_cuda_visible_devices_empty_means_cpu(tmp_path: Path) -> None:
    path = fake_nvidia_smi(tmp_path / "bin", smi_xml())
    device = hardware.probe({"PATH": path, "CUDA_VISIBLE_DEVICES": ""})
    assert (device.kind, device.visible, len(device.gpus)) == ("cpu", "", 1)  # the machine's GPUs still listed


def test_no_nvidia_smi_or_a_failing_one_is_no_gpu(tmp_path: Path) -> None:
    assert hardware.nvidia_smi({"PATH": str(tmp_path / "empty")}) is None
    failing = fake_nvidia_smi(tmp_path / "bad", "NVIDIA-SMI has failed\n", code=9)
    assert hardware.nvidia_smi({"PATH": failing}) is None
    device = hardware.probe({"PATH": failing})
    assert (device.kind, device.gpus, device.driver, device.cuda) == ("cpu", (), None, None)


def test_a_hanging_nvidia_smi_is_given_up_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hardware, "GPU_TIMEOUT", 0.5)
    path = fake_nvidia_smi(tmp_path / "bin", smi_xml(), sleep=5)  # left behind, it ends soon after
    start = time.monotonic()
    assert hardware.probe({"PATH": path}).gpus == ()
    assert time.monotonic() - start < 3


def test_torch_info_reads_the_installed_cpu_build_without_importing_it() -> None:
    import subprocess
    import sys

    # scripts/ensure-torch installs the CPU wheel (make setup); a fresh interpreter shows what gets imported.
    code = "import sys; from alops import hardware; print(hardware.torch_info()); print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [repr(Torch(metadata.version("torch"), None)), "False"]
    assert metadata.version("torch").endswith("+cpu")


def test_as_dict_is_json_ready() -> None:
    import json

    device = Device("cpu", (Gpu("NVIDIA H200", 143771, "570.1"),), "570.1", "12.8", Torch("2.13.0+cpu", None), "")
    assert json.loads(json.dumps(device.as_dict())) == {
        "kind": "cpu",
        "gpus": [{"name": "NVIDIA H200", "memory_mib": 143771, "driver": "570.1"}],
        "driver": "570.1",
        "cuda": "12.8",
        "torch": {"version": "2.13.0+cpu", "cuda": None},
        "visible": "",
    }
