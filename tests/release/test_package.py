"""The release package: deterministic bytes, what it holds, a safe unpacking."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from alops.errors import DataError
from alops.release import package
from alops.sections import Release, release

COMMIT = "a" * 40


def make_release(**overrides: Any) -> Release:
    data: dict[str, Any] = {
        "model": "digits",
        "path": "models/{dataset}",
        "bump": "patch",
        "predictor": "src/predict.py",
        "requirements": ["scikit-learn", "NumPy", "pandas>=2", "missing-one", "torch[cpu]"],
        "environments": {"staging": {"url": "http://127.0.0.1:8081", "timeout": 30}},
    }
    return release(data | overrides)


def make_manifest(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "alops_manifest": 1,
        "created": "2026-12-01T10:00:00Z",
        "commit": COMMIT,
        "dataset": "full",
        "metrics": {"metrics/full.json": {"accuracy": 0.97}},
        "environment": {"packages": {"scikit_learn": "1.5.2", "numpy": "2.1.0", "Torch": "2.13.0"}},
    }
    return doc | overrides


def make_project(root: Path) -> Path:
    (root / "models" / "full" / "sub").mkdir(parents=True)
    (root / "models" / "full" / "model.pkl").write_bytes(b"\x80pickle")
    (root / "models" / "full" / "sub" / "run.sh").write_text("#!/bin/sh\n")
    (root / "models" / "full" / "sub" / "run.sh").chmod(0o775)
    (root / "src").mkdir()
    (root / "src" / "predict.py").write_text("def load(model_dir):\n    return None\n")
    return root


def test_build_holds_the_meta_the_manifest_the_model_and_the_predictor(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    built = package.build(root, make_release(), make_manifest(), "1.2.0", tmp_path / "out")
    assert built.archive == tmp_path / "out" / "digits-1.2.0.tar.gz"
    assert (built.model, built.version) == ("digits", "1.2.0")
    with tarfile.open(built.archive) as tar:
        names = tar.getnames()
        members = {m.name: m for m in tar.getmembers()}
        meta = json.loads(tar.extractfile("alops-package.json").read())  # type: ignore[union-attr]
        manifest = json.loads(tar.extractfile("alops-manifest.json").read())  # type: ignore[union-attr]
    assert names == [
        "alops-package.json",
        "alops-manifest.json",
        "model",
        "model/model.pkl",
        "model/sub",
        "model/sub/run.sh",
        "predictor.py",
    ]
    assert meta == built.meta
    assert meta["requirements"] == [
        "scikit-learn==1.5.2",
        "NumPy==2.1.0",
        "pandas>=2",
        "missing-one",
        "torch[cpu]==2.13.0",
    ]
    assert {k: meta[k] for k in ("format", "model", "version", "commit", "model_dir", "predictor", "created")} == {
        "format": 1,
        "model": "digits",
        "version": "1.2.0",
        "commit": COMMIT,
        "model_dir": "model",
        "predictor": "predictor.py",
        "created": "2026-12-01T10:00:00Z",
    }
    assert meta["metrics"] == {"metrics/full.json": {"accuracy": 0.97}}
    assert manifest["commit"] == COMMIT
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members.values()} == {(0, 0, "", "", 0)}
    assert members["model/sub/run.sh"].mode == 0o755
    assert members["model/model.pkl"].mode == 0o644
    assert members["model"].isdir() and members["model"].mode == 0o755


def test_the_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    first = package.build(root, make_release(), make_manifest(), "1.2.0", tmp_path / "a").archive.read_bytes()
    (root / "models" / "full" / "model.pkl").touch()  # a new mtime, the same content
    second = package.build(root, make_release(), make_manifest(), "1.2.0", tmp_path / "b").archive.read_bytes()
    assert first == second
    header = first[:10]
    assert header[4:8] == b"\0\0\0\0"  # gzip mtime 0
    assert header[3] & 0x08 == 0  # no file name in the gzip header
    (root / "models" / "full" / "model.pkl").write_bytes(b"other")
    third = package.build(root, make_release(), make_manifest(), "1.2.0", tmp_path / "c").archive.read_bytes()
    assert hashlib.sha256(third).digest() != hashlib.sha256(first).digest()


def test_a_model_file_goes_under_model_by_its_name_and_symlinks_are_followed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "predict.py").write_text("")
    (root / "cache").mkdir()
    (root / "cache" / "blob").write_bytes(b"weights")
    (root / "models").mkdir()
    (root / "models" / "full.pkl").symlink_to(root / "cache" / "blob")  # DVC's symlink cache type
    built = package.build(root, make_release(path="models/{dataset}.pkl"), make_manifest(), "0.1.0", tmp_path / "o")
    with tarfile.open(built.archive) as tar:
        member = tar.getmember("model/full.pkl")
        assert member.isfile()
        assert tar.extractfile(member).read() == b"weights"  # type: ignore[union-attr]


def test_a_missing_model_or_predictor_says_what_to_run(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    with pytest.raises(DataError, match=r"models/dev \(release.path in alops.yaml\), is missing: run `alops run`"):
        package.build(root, make_release(), make_manifest(dataset="dev"), "1.2.0", tmp_path / "out")
    with pytest.raises(DataError, match=r"the predictor src/other.py \(release.predictor in alops.yaml\) is missing"):
        package.build(root, make_release(predictor="src/other.py"), make_manifest(), "1.2.0", tmp_path / "out")
    with pytest.raises(DataError, match="names no dataset"):
        package.build(root, make_release(), make_manifest(dataset=None), "1.2.0", tmp_path / "out")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_read_meta_and_extract_give_back_what_was_built(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    built = package.build(root, make_release(), make_manifest(), "1.2.0", tmp_path / "out")
    assert package.read_meta(built.archive) == built.meta
    dest = package.extract(built.archive, tmp_path / "unpacked")
    assert dest == tmp_path / "unpacked"
    assert (dest / "model" / "model.pkl").read_bytes() == b"\x80pickle"
    assert (dest / "predictor.py").read_text().startswith("def load")
    assert json.loads((dest / "alops-package.json").read_text()) == built.meta
    (dest / "stale").write_text("from before")
    package.extract(built.archive, dest)  # replaced whole
    assert not (dest / "stale").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # nothing left beside it


def test_a_truncated_archive_is_a_data_error_naming_it(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    (root / "models" / "full" / "big.bin").write_bytes(bytes(range(256)) * 4096)
    built = package.build(root, make_release(), make_manifest(), "1.2.0", tmp_path / "out")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(built.archive.read_bytes()[: built.archive.stat().st_size // 2])
    with pytest.raises(DataError, match=rf"{cut} is not an alops package, or a truncated one .*download or build it"):
        package.extract(cut, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


@pytest.mark.parametrize("content", [b"", b"plain text, not gzip", gzip.compress(b"gzip but not a tar" * 100)])
def test_a_foreign_file_is_a_data_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "foreign.tar.gz"
    path.write_bytes(content)
    with pytest.raises(DataError, match=str(path)):
        package.read_meta(path)
    with pytest.raises(DataError, match=str(path)):
        package.extract(path, tmp_path / "dest")
    with pytest.raises(DataError, match="file not found"):
        package.read_meta(tmp_path / "absent.tar.gz")


def _tar(tmp_path: Path, *members: tuple[tarfile.TarInfo, bytes]) -> Path:
    path = tmp_path / "hostile.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        meta = json.dumps({"format": 1, "model": "m", "version": "1.0.0", "model_dir": "model", "predictor": "p.py"})
        info = tarfile.TarInfo("alops-package.json")
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta.encode()))
        for info, data in members:
            tar.addfile(info, io.BytesIO(data))
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, size
    return info


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (_member("../escape.txt", size=2), "points outside the package"),
        (_member("/etc/passwd-alops", size=2), "points outside the package"),
        (_member("model/../../escape", size=2), "points outside the package"),
        (_member("model/link", tarfile.SYMTYPE, "/etc/passwd"), "is a link or a device"),
        (_member("model/inside-link", tarfile.SYMTYPE, "model.pkl"), "is a link or a device"),
        (_member("model/hard", tarfile.LNKTYPE, "alops-package.json"), "is a link or a device"),
        (_member("model/fifo", tarfile.FIFOTYPE), "is a link or a device"),
    ],
)
def test_extract_refuses_members_outside_the_destination_and_links(
    tmp_path: Path, member: tarfile.TarInfo, why: str
) -> None:
    archive = _tar(tmp_path, (member, b"x" * member.size))
    with pytest.raises(DataError, match=why):
        package.extract(archive, tmp_path / "sub" / "dest")
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "sub" / "dest").exists()


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        meta = json.dumps({"format": 2}).encode()
        info = tarfile.TarInfo("alops-package.json")
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta))
    with pytest.raises(DataError, match=r"format 2 is not one this alops reads \(1\)"):
        package.read_meta(path)


def test_pinned_compares_names_as_pep_503_does() -> None:
    manifest = {"environment": {"packages": {"Scikit.Learn": "1.5.2", "typing_extensions": "4.0"}}}
    assert package.pinned(["scikit_learn", "Typing-Extensions", "numpy", "x; python_version<'4'"], manifest) == [
        "scikit_learn==1.5.2",
        "Typing-Extensions==4.0",
        "numpy",
        "x; python_version<'4'",
    ]
    assert package.pinned(["numpy"], {"environment": None}) == ["numpy"]


def test_a_link_cycle_in_the_model_is_a_data_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    (root / "models" / "full" / "sub" / "loop").symlink_to(root / "models" / "full")
    with pytest.raises(DataError, match=r"sub/loop links to a folder already in the model: remove that link"):
        package.build(root, make_release(), make_manifest(), "1.2.0", tmp_path / "out")
