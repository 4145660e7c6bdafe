"""Installing alops the ways the README documents: from the GitLab project's git URL at a
version tag, and as the wheel alops's tag pipeline publishes to the PyPI package registry."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

UV = Path(sys.executable).parent / "uv"
ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def tagged_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this checkout's HEAD, tagged as a release would be."""
    dest = tmp_path_factory.mktemp("install") / "alops"
    _git("clone", "--quiet", "--no-local", str(ROOT), str(dest), cwd=ROOT)
    _git("-c", "user.name=t", "-c", "user.email=t@t.invalid", "tag", "-a", "0.1.0", "-m", "0.1.0", cwd=dest)
    return dest


def test_pip_install_from_the_git_url_at_a_tag(tagged_clone: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    url = f"alops[s3] @ git+file://{tagged_clone}@0.1.0"
    subprocess.run([str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), url], check=True)

    version = subprocess.run([str(venv / "bin" / "alops"), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == "alops, version 0.1.0"
    # The schema is package data: an installed alops validates without a source checkout.
    schema = subprocess.run([str(venv / "bin" / "alops"), "config", "schema"], capture_output=True, text=True)
    assert schema.returncode == 0 and '"$schema"' in schema.stdout
    skeleton = ROOT / "examples" / "project-skeleton"
    plan = subprocess.run(
        [str(venv / "bin" / "alops"), "-c", str(skeleton / "alops.yaml"), "flow", "--branch", "feature/x"],
        capture_output=True,
        text=True,
        cwd=skeleton,
    )
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.startswith("role      feature")
    # The s3 extra brought DVC's S3 plugin.
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import dvc_s3"], capture_output=True)
    assert probe.returncode == 0


def test_the_wheel_holds_the_package_data(tagged_clone: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run([str(UV), "build", "--quiet", "--wheel", "--out-dir", str(out), str(tagged_clone)], check=True)
    (wheel,) = out.glob("alops-0.1.0-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "alops/schema/alops.schema.json" in names
    assert "alops/cli/__init__.py" in names
    assert not any(n.startswith(("tests/", "examples/")) for n in names)
