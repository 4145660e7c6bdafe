"""scripts/ensure-label-studio: installs once, then answers at once with the same executable."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_a_second_run_is_instant_and_names_the_executable() -> None:
    first = subprocess.run([str(ROOT / "scripts/ensure-label-studio")], check=True, capture_output=True, text=True)
    started = time.monotonic()
    second = subprocess.run([str(ROOT / "scripts/ensure-label-studio")], check=True, capture_output=True, text=True)
    assert time.monotonic() - started < 1
    assert second.stdout == first.stdout
    executable = Path(second.stdout.strip())
    assert executable.name == "label-studio" and executable.is_file()
    version = subprocess.run(
        [str(executable.parent / "python"), "-c", "import label_studio; print(label_studio.__version__)"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert version.stdout.strip() == "1.23.2"
    assert (ROOT / ".gitignore").read_text().count("/.cache/") == 1  # the venv is never committed
