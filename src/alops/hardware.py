"""The machine's accelerators: NVIDIA GPUs (nvidia-smi), the driver and its CUDA, and PyTorch's build.

The one place that knows them: the run manifest records :func:`probe`'s
:class:`Device`, ``alops doctor`` checks it. Nothing here imports torch (that
costs about a second): its version and CUDA target are read from its files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from alops import env as variables

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

#: One nvidia-smi call gives every fact: ``-q -x`` prints the full query as XML (nvidia_smi_log:
#: driver_version, cuda_version, and per gpu product_name and fb_memory_usage/total, "143771 MiB").
#: https://man.archlinux.org/man/nvidia-smi.1 ("-x, --xml-format").
GPU_QUERY = ["nvidia-smi", "-q", "-x"]
#: Seconds to wait for nvidia-smi (a wedged driver can make it hang).
GPU_TIMEOUT = 15.0


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_mib: int | None
    driver: str | None


@dataclass(frozen=True)
class Torch:
    version: str
    cuda: str | None  # the CUDA its build targets (None: a CPU build)


@dataclass(frozen=True)
class Device:
    """Where a training run computes, and what the machine has."""

    kind: str  # "cuda" if a GPU is visible (and torch, when installed, is a CUDA build), else "cpu"
    gpus: tuple[Gpu, ...]
    driver: str | None  # the NVIDIA driver's version
    cuda: str | None  # the CUDA version the driver supports (nvidia-smi's "CUDA Version")
    torch: Torch | None
    visible: str | None  # CUDA_VISIBLE_DEVICES as set; "" or "-1" hides every GPU

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the GPUs as a list of objects, torch as an object or null."""
        return asdict(self) | {"gpus": [asdict(g) for g in self.gpus]}


def probe(env: Mapping[str, str]) -> Device:
    """The machine's GPUs (nvidia-smi on ``env``'s PATH), torch's build, and the device a run would use."""
    found = nvidia_smi(env)
    gpus, driver, cuda = found if found is not None else ((), None, None)
    visible = env.get(variables.CUDA_VISIBLE_DEVICES)
    torch = torch_info()
    return Device(kind(gpus, visible, torch), gpus, driver, cuda, torch, visible)


def kind(gpus: tuple[Gpu, ...], visible: str | None, torch: Torch | None) -> str:
    """ "cuda" when a GPU is there, CUDA_VISIBLE_DEVICES does not hide it, and torch (if installed) can use it."""
    usable = bool(gpus) and not hides_all(visible) and (torch is None or torch.cuda is not None)
    return "cuda" if usable else "cpu"


def hides_all(visible: str | None) -> bool:
    """CUDA_VISIBLE_DEVICES lists no device: CUDA stops at the first invalid index, so "" and "-1" hide all.

    https://docs.nvidia.com/cuda/cuda-c-programming-guide/index.html#cuda-environment-variables
    """
    if visible is None:
        return False
    first = visible.split(",")[0].strip()
    return not first or (first.lstrip("-").isdigit() and int(first) < 0)


def nvidia_smi(env: Mapping[str, str]) -> tuple[tuple[Gpu, ...], str | None, str | None] | None:
    """(GPUs, driver version, CUDA version) from ``nvidia-smi -q -x``; None without it, or when it fails or hangs."""
    import shutil
    import threading

    from alops import proc
    from alops.errors import ToolError

    if shutil.which(GPU_QUERY[0], path=env.get("PATH")) is None:
        return None
    found: list[str] = []

    def query() -> None:
        try:
            done = proc.run(GPU_QUERY, env=env, check=False)
        except (ToolError, UnicodeError):
            return
        if done.returncode == 0:
            found.append(done.stdout)

    # alops.proc.run has no timeout: a hung nvidia-smi is left behind in a daemon thread rather than
    # holding up the run (the manifest then lists no GPU).
    worker = threading.Thread(target=query, daemon=True)
    worker.start()
    worker.join(GPU_TIMEOUT)
    return parse_nvidia_smi(found[0]) if found else None


def parse_nvidia_smi(text: str) -> tuple[tuple[Gpu, ...], str | None, str | None] | None:
    """``nvidia-smi -q -x``'s XML as (GPUs, driver, CUDA version); None when it is not that XML."""
    import xml.etree.ElementTree as ET

    try:
        # nvidia-smi's own output (a local program), not user input; its DOCTYPE names a DTD never fetched.
        root = ET.fromstring(text)  # noqa: S314
    except ET.ParseError:
        return None
    if root.tag != "nvidia_smi_log":
        return None
    driver = _text(root.find("driver_version"))
    gpus = tuple(
        Gpu(name, _mib(_text(gpu.find("fb_memory_usage/total"))), driver)
        for gpu in root.iter("gpu")
        if (name := _text(gpu.find("product_name")))
    )
    return gpus, driver, _text(root.find("cuda_version"))


def _text(node: ET.Element | None) -> str | None:
    value = (node.text or "").strip() if node is not None else ""
    return value if value and value != "N/A" else None


def _mib(text: str | None) -> int | None:
    number = (text or "").removesuffix("MiB").strip()
    return int(number) if number.isdigit() else None


def torch_info() -> Torch | None:
    """The installed torch's version and CUDA target (torch/version.py's ``cuda``), without importing torch."""
    import ast
    from importlib import metadata
    from pathlib import Path

    try:
        dist = metadata.distribution("torch")
    except metadata.PackageNotFoundError:
        return None
    cuda = None
    try:
        text = Path(str(dist.locate_file("torch/version.py"))).read_text(encoding="utf-8")
    except (OSError, UnicodeError):
        text = ""
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.split(":")[0].strip() == "cuda":  # `cuda: Optional[str] = '12.8'` or `= None`
            try:
                literal = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                literal = None
            cuda = literal if isinstance(literal, str) else None
    return Torch(dist.version, cuda)
