"""Hostile data files against the real `alops devset build` and `alops devset check`.

Each case is a git + DVC project whose full data is hostile: a compressed or
binary file, NUL bytes, a 150,000-column header, a named pipe, links out of
the dataset, names that are not UTF-8, nested or broken Parquet, a table
truncated or deleted while it is read. Both commands run through the CLI and
must either count the bad rows as corrupt (and then agree with each other:
the check passes the dev set the builder made) or stop with exit 2 and a
message naming the file; never a traceback (exit 70), never a hang.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from alops.cli import cli
from alops.devset.dataset import datafiles, parquet, scan
from alops.errors import EXIT_CONFIG, EXIT_DATA

#: Longest a command may take on any of these files (a hang fails the test, it does not block it).
DEADLINE_S = 120
GOOD = "id,label,x\n" + "".join(f"{i},{'ab'[i % 2]},{i % 7}\n" for i in range(400))
SECRET = "the content of a file outside the dataset: 7d1f0c"


@pytest.fixture
def repo(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh git + DVC project (copied from one made once per session)."""
    base = tmp_path_factory.getbasetemp() / "hostile-template"
    if not (base / "ready").exists():
        shutil.rmtree(base, ignore_errors=True)
        (base / "repo").mkdir(parents=True)
        subprocess.run(["git", "init", "--quiet", "--initial-branch=main"], cwd=base / "repo", check=True)
        subprocess.run([sys.executable, "-m", "dvc", "init", "--quiet"], cwd=base / "repo", check=True)
        (base / "ready").touch()
    root = tmp_path / "repo"
    shutil.copytree(base / "repo", root, symlinks=True)
    (root / "data").mkdir()
    return root


def configure(root: Path, source: str, output: str, **build: Any) -> None:
    section = {"source": source, "output": output, "fraction": 0.5, "corrupt": {"max_share": 0.5}, **build}
    config = {
        "version": 1,
        "datasets": {"full": {"targets": ["data/full.dvc"]}, "dev": {"targets": [f"{output}.dvc"], "build": section}},
        "pipeline": {"train": ["train"]},
    }
    (root / "alops.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


class Hang(Exception):
    pass


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fail (through the CLI's own error handler) instead of hanging past DEADLINE_S."""

    def expired(*_: Any) -> None:
        raise Hang(f"no answer within {DEADLINE_S} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(DEADLINE_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def alops(root: Path, *args: str) -> tuple[int, str]:
    """``alops -c root/alops.yaml devset ARGS`` in-process; (exit code, stdout + stderr)."""
    command = [*args, "--report-dir", str(root / "check-report")] if args[0] == "check" else list(args)
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "devset", *command], catch_exceptions=False)
    text = result.stdout + result.stderr
    assert "Traceback" not in text and "hit a bug" not in text, text
    assert "\x1b" not in text, text  # nothing from a file reaches the terminal unescaped
    return result.exit_code, text


def build_then_check(root: Path, build: tuple[int, str], check: tuple[int, str], *, clean_dev: str = "") -> str:
    """Build, then check; each must exit as told with a message holding the text. The build's output."""
    code, out = alops(root, "build", "--no-track")
    assert (code, build[1] in out) == (build[0], True), out
    if code != 0 and clean_dev:  # the check on its own: a clean dev set against the hostile full data
        write_clean(root / clean_dev)
    code, checked = alops(root, "check")
    assert (code, check[1] in checked) == (check[0], True), checked
    return out


def write_clean(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        rows = [line.split(",") for line in GOOD.splitlines()[1:]]
        pq.write_table(pa.table({"id": [int(r[0]) for r in rows], "label": [r[1] for r in rows]}), path)
    elif path.suffix == ".csv":
        path.write_text(GOOD)
    else:
        path.mkdir(exist_ok=True)
        (path / "a.csv").write_text(GOOD)


# --- one CSV table ------------------------------------------------------------------------------


def gzip_after_header(full: Path) -> None:
    full.write_bytes(GOOD.encode() + gzip.compress(GOOD.encode() * 20) + GOOD.encode()[11:])


def gzip_whole_file(full: Path) -> None:
    full.write_bytes(gzip.compress(GOOD.encode()))


def latin1_header(full: Path) -> None:
    full.write_bytes("id,labél,x\n".encode("latin-1") + GOOD.encode()[11:])


def utf16(full: Path) -> None:
    full.write_text(GOOD, encoding="utf-16")


def nul_in_cells(full: Path) -> None:
    full.write_text(GOOD.replace("5,", "5\0,").replace(",3\n", ",\0\n"))


def nul_in_header(full: Path) -> None:
    full.write_text("id,la\0bel,x\n" + GOOD[11:])


def crlf_and_bom(full: Path) -> None:
    full.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())


def lone_cr_and_quotes(full: Path) -> None:
    full.write_text(GOOD + '1,"a\n2",3\n4,a,5\r6,b,7\n"unclosed,a,1\n' + GOOD[11:])


def spanning_lines(full: Path) -> None:
    # Lines a value runs past (a quote left open, a lone CR): found directly, not by one read per line.
    full.write_text(GOOD + '1,"a,3\n2,a\r3,4\n4,x,"abc\n5,b,6\n' * 40_000 + GOOD[11:])


def not_utf8_cells(full: Path) -> None:
    full.write_bytes(GOOD.encode().replace(b"\n3,", b"\n3\xff\xfe,").replace(b",b,4", b",b\xc3,4"))


def binary_garbage(full: Path) -> None:
    full.write_bytes(b"id,label,x\n" + bytes(range(256)) * 64 + b"\n" + GOOD.encode()[11:])


def empty(full: Path) -> None:
    full.write_bytes(b"")


def header_only(full: Path) -> None:
    full.write_text("id,label,x\n")


def header_without_line_break(full: Path) -> None:
    full.write_text("id,label,x")


def a_folder(full: Path) -> None:
    full.mkdir()


def a_named_pipe(full: Path) -> None:
    os.mkfifo(full)


def duplicate_column(full: Path) -> None:
    full.write_text("id,label,x,id\n1,a,2,3\n")


def wide_header(full: Path) -> None:
    n = 150_000
    full.write_text(",".join(f"c{i}" for i in range(n)) + "\n" + ",".join("1" for _ in range(n)) + "\n")


def duplicate_at_the_column_limit(full: Path) -> None:
    names = [f"c{i}" for i in range(datafiles.MAX_COLUMNS - 1)] + ["c0"]
    full.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")


def long_lines(full: Path) -> None:
    # Lines of a few MB, across block boundaries: read as rows, one corrupt (a field missing).
    full.write_text(GOOD + f"1,a,{'9' * (3 << 20)}\n" + f"2,{'b' * (5 << 20)}\n" + GOOD[11:])


def line_over_the_limit(full: Path) -> None:
    full.write_text(GOOD + f"1,a,{'9' * (2 * datafiles.MAX_LINE_BYTES)}\n" + GOOD[11:])


def header_over_the_limit(full: Path) -> None:
    full.write_text("id," + "x" * (datafiles.MAX_HEADER_BYTES + 10) + "\n1,2\n")


def header_of_commas(full: Path) -> None:
    # 4 million empty names: refused before any name is made into a Python string.
    full.write_text("," * (datafiles.MAX_HEADER_BYTES - 10) + "\n1\n")


def quoted_commas_in_names(full: Path) -> None:
    full.write_text('id,"label, the class",x\n' + GOOD[11:])


CSV_CASES: list[tuple[Callable[[Path], None], tuple[int, str], tuple[int, str]]] = [
    (gzip_after_header, (0, "corrupt rows"), (0, "representative")),
    (gzip_whole_file, (EXIT_CONFIG, "full.csv: is gzip-compressed, not a CSV table: decompress it"), (2, "gzip")),
    (latin1_header, (EXIT_CONFIG, "full.csv:1: the header line is not UTF-8 (byte 7)"), (EXIT_CONFIG, "not UTF-8")),
    (utf16, (EXIT_CONFIG, "full.csv: is UTF-16 text (save it as UTF-8), not a CSV table"), (2, "UTF-16")),
    (nul_in_cells, (0, "corrupt rows"), (0, "representative")),
    (nul_in_header, (EXIT_CONFIG, "full.csv:1: the header line holds a NUL byte"), (EXIT_CONFIG, "NUL byte")),
    (crlf_and_bom, (0, "200 of 400 rows (50.0%), 2 strata, 0 of 0 corrupt rows"), (0, "representative")),
    (lone_cr_and_quotes, (0, "corrupt rows"), (0, "representative")),
    (not_utf8_cells, (0, "corrupt rows"), (0, "representative")),
    (spanning_lines, (0, "corrupt rows"), (0, "representative")),
    (binary_garbage, (0, "corrupt rows"), (0, "representative")),
    (empty, (EXIT_CONFIG, "full.csv is empty: a CSV table needs a header line"), (EXIT_CONFIG, "is empty")),
    (header_only, (0, "0 of 0 rows"), (EXIT_CONFIG, "data/full.csv has no rows")),
    (header_without_line_break, (0, "0 of 0 rows"), (EXIT_CONFIG, "data/full.csv has no rows")),
    (a_folder, (EXIT_CONFIG, "data/full.csv holds no table"), (EXIT_CONFIG, "data/full.csv holds no table")),
    (a_named_pipe, (EXIT_CONFIG, "data/full.csv is a named pipe, not a file"), (EXIT_CONFIG, "is a named pipe")),
    (duplicate_column, (EXIT_CONFIG, "column 'id' appears more than once in the header (columns 1 and 4)"), (2, "id")),
    (wide_header, (EXIT_CONFIG, "150,000 columns, more than alops reads (16,384)"), (EXIT_CONFIG, "150,000 columns")),
    (duplicate_at_the_column_limit, (EXIT_CONFIG, "(columns 1 and 16384)"), (EXIT_CONFIG, "more than once")),
    (long_lines, (0, "corrupt rows"), (0, "representative")),
    (line_over_the_limit, (EXIT_CONFIG, "full.csv:402: a line longer than 1 MiB"), (EXIT_CONFIG, "longer than 1 MiB")),
    (header_over_the_limit, (EXIT_CONFIG, "full.csv:1: the header line is longer than 4 MiB"), (2, "4 MiB")),
    (header_of_commas, (EXIT_CONFIG, "4,194,295 columns, more than alops reads (16,384)"), (2, "more than alops")),
    (
        quoted_commas_in_names,
        (EXIT_CONFIG, "its columns: id, label, the class, x"),
        (EXIT_CONFIG, "its columns: id, label, the class, x"),
    ),
]


@pytest.mark.parametrize(("make", "build", "check"), CSV_CASES, ids=[c[0].__name__ for c in CSV_CASES])
def test_a_hostile_csv_table(
    repo: Path,
    deadline: None,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Path], None],
    build: tuple[int, str],
    check: tuple[int, str],
) -> None:
    if make is line_over_the_limit:  # the limit's logic, without 64 MB files
        monkeypatch.setattr(datafiles, "MAX_LINE_BYTES", 1 << 20)
        monkeypatch.setattr(scan, "BLOCK_BYTES", 64 << 10)
    configure(repo, "data/full.csv", "data/dev.csv", label="label")
    make(repo / "data/full.csv")
    build_then_check(repo, build, check, clean_dev="data/dev.csv")


def test_the_builder_and_the_check_agree_on_corrupt_rows_and_numeric_columns(repo: Path) -> None:
    """One definition (alops.devset.dataset.cells) in both: the same file, the same corrupt rows, the same numeric columns."""
    lines = [f"{i},{'ab'[i % 2]},{(i * 7) % 23}.5,{i % 5},note {i}\n" for i in range(300)]
    lines[10] = "10,a,n/a,1,x\n"  # not a number in a numeric column
    lines[20] = "20,b,nan,1,x\n"  # pyarrow reads NaN; alops does not
    lines[30] = "30,a,1e999,1,x\n"  # an infinity
    lines[40] = "40,b,4\0,1,x\n"  # a NUL byte after the number
    lines[50] = "50,a,3.5,1\n"  # a field missing
    raw = "".join(lines).encode().replace(b"note 60\n", b"note \xff\n").replace(b"note 70\n", b"\xc3\n")
    (repo / "data/full.csv").write_bytes(b"id,label,x,y,note\n" + raw)  # not UTF-8 in `note`, never parsed
    configure(repo, "data/full.csv", "data/dev.csv", label="label", fraction=1.0, outliers={"rule": "iqr"})

    code, out = alops(repo, "build", "--no-track")
    assert code == 0, out
    report = json.loads((repo / "data/dev.csv.report.json").read_text())
    assert report["corrupt"]["full"] == report["corrupt"]["dev"] == 7
    assert sorted(r["reason"] for r in report["corrupt_rows"]) == [
        "column 'x': '1e999' is not a number",
        "column 'x': '4\\x00' is not a number",
        "column 'x': 'n/a' is not a number",
        "column 'x': 'nan' is not a number",
        "expected 5 fields, found 4",
        "not UTF-8 text (byte 12 of the line)",  # 70,a,7.5,0,\xc3
        "not UTF-8 text (byte 17 of the line)",  # 60,a,6.5,0,note \xff
    ]
    code, out = alops(repo, "check")
    assert code == 0, out
    found = json.loads((repo / "check-report/report.json").read_text())
    share = next(f for f in found["findings"] if f["column"] == "corrupt rows")
    assert (share["full"], share["dev"]) == (7, 7)
    numeric_in_check = {f["column"] for f in found["findings"] if f["kind"] == "numeric"}
    numeric_in_check |= {s["column"] for s in found["skipped"] if "distinct whole numbers" in s["why"]}
    assert numeric_in_check == set(report["outliers"]["columns"]) == {"id", "x", "y"}


@pytest.mark.parametrize("how", ["truncated", "deleted", "grown"])
def test_a_table_that_changes_while_it_is_read(
    repo: Path, deadline: None, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Plain reads, not a memory map: a table cut short under alops is exit 4 (run again), not SIGBUS."""
    configure(repo, "data/full.csv", "data/dev.csv", label="label")
    full = repo / "data/full.csv"
    real = scan.blocks

    def meddling(table: scan.CsvTable, block_bytes: int | None = None) -> Iterator[tuple[int, int, bytes]]:
        for k, block in enumerate(real(table, block_bytes)):
            if k == 0 and table.path == full:
                if how == "truncated":
                    os.truncate(full, table.size // 3)
                elif how == "deleted":
                    full.unlink()
                else:
                    with full.open("ab") as fh:
                        fh.write(b"1,a,1\n")
            yield block

    monkeypatch.setattr(scan, "blocks", meddling)
    monkeypatch.setattr(scan, "BLOCK_BYTES", 4096)
    message = {"truncated": "changed while alops read it", "deleted": "deleted while alops read it"}
    for command in ("build", "check"):
        full.write_text(GOOD * 8)
        if command == "check":
            write_clean(repo / "data/dev.csv")
        code, out = alops(repo, command, *(["--no-track"] if command == "build" else []))
        assert (code, message.get(how, "changed while alops read it") in out) == (EXIT_DATA, True), out
        assert "full.csv" in out


@pytest.mark.parametrize("how", ["truncated", "deleted"])
def test_a_parquet_table_that_changes_while_it_is_read(repo: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    configure(repo, "data/full.parquet", "data/dev.parquet", label="label")
    full = repo / "data/full.parquet"
    real = parquet.batches
    message = {"truncated": "full.parquet: cannot be read as a Parquet table", "deleted": "deleted while alops read"}

    def cut(handle: Any, path: Path) -> Iterator[Any]:
        if path == full and how == "truncated":
            os.truncate(path, path.stat().st_size // 2)
        elif path == full:
            path.unlink()  # pyarrow still holds the file open: it reads on, alops notices at the end
        yield from real(handle, path)

    monkeypatch.setattr(parquet, "batches", cut)
    for command in ("build", "check"):
        write_clean(full)
        if command == "check":
            write_clean(repo / "data/dev.parquet")
        code, out = alops(repo, command, *(["--no-track"] if command == "build" else []))
        # A Parquet file cut short does not parse (bad input, 2); one deleted is gone (4).
        assert (code, message[how] in out) == (EXIT_CONFIG if how == "truncated" else EXIT_DATA, True), out


# --- a folder of tables -------------------------------------------------------------------------


def outside(root: Path) -> Path:
    """A file outside the project, with content that must never reach the dev set or the DVC cache."""
    secret = root.parent / "outside" / "secret.csv"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text("id,label,x\n" + "".join(f"{i},{SECRET},1\n" for i in range(50)))
    return secret


def link_to_passwd(folder: Path) -> None:
    os.symlink("/etc/passwd", folder / "b.csv")


def link_outside_project(folder: Path) -> None:
    os.symlink(outside(folder.parent.parent), folder / "b.csv")


def link_elsewhere_in_project(folder: Path) -> None:
    (folder.parent / "other.csv").write_text(GOOD)
    os.symlink("../other.csv", folder / "b.csv")


def link_to_a_folder(folder: Path) -> None:
    os.symlink(outside(folder.parent.parent).parent, folder / "more")


def name_not_utf8(folder: Path) -> None:
    (Path(os.fsdecode(os.fsencode(folder) + b"/b\xff\x1b[31m.csv"))).write_text(GOOD)


def pipe_in_folder(folder: Path) -> None:
    os.mkfifo(folder / "b.csv")


def hidden_link(folder: Path) -> None:
    os.symlink("/etc/passwd", folder / ".b.csv")  # hidden: never read, never refused


def link_inside(folder: Path) -> None:
    (folder / "sub").mkdir()
    (folder / "sub/c.csv").write_text(GOOD)
    os.symlink("sub/c.csv", folder / "b.csv")


def dangling_link(folder: Path) -> None:
    os.symlink("gone.csv", folder / "b.csv")


def link_loop(folder: Path) -> None:
    os.symlink("b.csv", folder / "b.csv")


def empty_table_in_folder(folder: Path) -> None:
    (folder / "b.csv").write_bytes(b"")


FOLDER_CASES: list[tuple[Callable[[Path], None], tuple[int, str], tuple[int, str]]] = [
    (link_to_passwd, (EXIT_CONFIG, "b.csv: is a link to /etc/passwd, outside the dataset"), (2, "/etc/passwd")),
    (link_outside_project, (EXIT_CONFIG, "outside/secret.csv, outside the dataset"), (2, "outside the dataset")),
    (link_elsewhere_in_project, (EXIT_CONFIG, "data/other.csv, outside the dataset"), (2, "outside the dataset")),
    (link_to_a_folder, (EXIT_CONFIG, "more: is a link to a folder"), (EXIT_CONFIG, "is a link to a folder")),
    (name_not_utf8, (EXIT_CONFIG, "full/b\\xff\\x1b[31m.csv: the file name is not UTF-8"), (2, "b\\xff\\x1b[31m.csv")),
    (pipe_in_folder, (EXIT_CONFIG, "b.csv: is a named pipe, not a file"), (EXIT_CONFIG, "is a named pipe")),
    (hidden_link, (0, "200 of 400 rows"), (0, "representative")),
    (link_inside, (0, "600 of 1,200 rows"), (0, "representative")),
    (empty_table_in_folder, (EXIT_CONFIG, "b.csv is empty"), (EXIT_CONFIG, "b.csv is empty")),
    (dangling_link, (EXIT_DATA, "b.csv: is a link to gone.csv, which does not exist"), (EXIT_DATA, "does not exist")),
    (link_loop, (EXIT_DATA, "b.csv: cannot be read: Too many levels of symbolic links"), (EXIT_DATA, "symbolic links")),
]


@pytest.mark.parametrize(("make", "build", "check"), FOLDER_CASES, ids=[c[0].__name__ for c in FOLDER_CASES])
def test_a_hostile_folder_of_tables(
    repo: Path,
    deadline: None,
    make: Callable[[Path], None],
    build: tuple[int, str],
    check: tuple[int, str],
) -> None:
    configure(repo, "data/full", "data/dev", label="label")
    (repo / "data/full").mkdir()
    (repo / "data/full/a.csv").write_text(GOOD)
    make(repo / "data/full")
    build_then_check(repo, build, check, clean_dev="data/dev")
    assert SECRET not in written(repo)


def written(root: Path) -> str:
    """The content of every file in the project, links not followed."""
    out = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink():
                out.append(path.read_text(errors="replace"))
    return "".join(out)


def test_a_source_that_links_out_of_the_project_is_refused(repo: Path) -> None:
    configure(repo, "data/full", "data/dev", label="label")
    os.symlink(outside(repo).parent, repo / "data/full")
    for command in ("build", "check"):
        if command == "check":
            write_clean(repo / "data/dev")
        code, out = alops(repo, command)
        assert (code, "data/full: is a link to" in out, "outside the project" in out) == (EXIT_CONFIG, True, True), out


@pytest.mark.parametrize("shared", [False, True], ids=["cache-in-project", "shared-cache-outside"])
def test_links_into_the_dvc_cache_are_read(repo: Path, shared: bool) -> None:
    """DVC's `cache.type symlink` links every file of a tracked folder into the cache: that is the data."""
    dvc = [sys.executable, "-m", "dvc"]
    if shared:
        subprocess.run([*dvc, "cache", "dir", str(repo.parent / "shared-cache")], cwd=repo, check=True)
    subprocess.run([*dvc, "config", "cache.type", "symlink"], cwd=repo, check=True)
    (repo / "data/full").mkdir()
    (repo / "data/full/a.csv").write_text(GOOD)
    (repo / "data/full/b.csv").write_text(GOOD.replace(",a,", ",c,"))
    subprocess.run([*dvc, "add", "--quiet", "data/full"], cwd=repo, check=True)
    assert (repo / "data/full/a.csv").is_symlink()
    configure(repo, "data/full", "data/dev", label="label")
    build_then_check(repo, (0, "400 of 800 rows"), (0, "representative"))


# --- a folder of files with a manifest -------------------------------------------------------------


def manifest_project(root: Path, extra: list[str], fmt: str = "csv") -> None:
    full = root / "data/full"
    full.mkdir()
    rows = []
    for i in range(40):
        (full / f"f{i}.txt").write_text(f"file {i}\n")
        rows.append((f"f{i}.txt", "ab"[i % 2]))
    rows += [(name, "a") for name in extra]
    if fmt == "csv":
        (full / "manifest.csv").write_text("path,label\n" + "".join(f"{p},{label}\n" for p, label in rows))
    configure(root, "data/full", "data/dev", label="label", fraction=0.5)


def test_files_behind_links_out_of_the_dataset_are_corrupt_rows_never_copied(repo: Path, deadline: None) -> None:
    manifest_project(repo, ["hostname.txt", "config.txt", "pipe.txt", "inside.txt"] * 5)
    full = repo / "data/full"
    os.symlink(outside(repo), full / "hostname.txt")  # like /etc/hostname
    os.symlink("../../.dvc/config", full / "config.txt")  # in the project, outside the dataset: DVC's settings
    os.mkfifo(full / "pipe.txt")
    os.symlink("f1.txt", full / "inside.txt")  # a link within the dataset: read
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "--quiet", "-m", "data"], cwd=repo, check=True)

    code, out = alops(repo, "build")  # tracked by DVC: nothing from outside reaches its cache either
    assert code == 0, out
    reasons = {r["reason"] for r in json.loads((repo / "data/dev.report.json").read_text())["corrupt_rows"]}
    assert reasons <= {
        "file 'hostname.txt' is a link to outside the dataset",
        "file 'config.txt' is a link to outside the dataset",
        "'pipe.txt' is a named pipe, not a file",
    }
    assert reasons
    placed = {p.name for p in (repo / "data/dev").iterdir()}
    assert not placed & {"hostname.txt", "config.txt", "pipe.txt"}
    cached = written(repo / ".dvc/cache")
    assert cached and SECRET not in cached and "[core]" not in cached
    assert SECRET not in written(repo / "data/dev")
    code, out = alops(repo, "check")
    assert code == 0, out


@pytest.mark.parametrize(
    ("change", "build", "check"),
    [
        ("manifest-link", (EXIT_CONFIG, "manifest.csv: is a link to"), (EXIT_CONFIG, "outside the dataset")),
        ("manifest-pipe", (EXIT_CONFIG, "manifest.csv: is a named pipe, not a file"), (2, "is a named pipe")),
        ("nul-path", (0, "corrupt rows"), (0, "representative")),
        ("parquet-int-paths", (EXIT_CONFIG, "'path' column holds int64, not text"), (0, "")),
    ],
)
def test_a_hostile_manifest(
    repo: Path, deadline: None, change: str, build: tuple[int, str], check: tuple[int, str]
) -> None:
    manifest_project(repo, ["bad\0name.txt"] * 3 if change == "nul-path" else [])
    manifest = repo / "data/full/manifest.csv"
    if change == "manifest-link":
        text = manifest.read_text()
        manifest.unlink()
        (repo.parent / "outside").mkdir()
        (repo.parent / "outside/manifest.csv").write_text(text)
        os.symlink(repo.parent / "outside/manifest.csv", manifest)
    elif change == "manifest-pipe":
        manifest.unlink()
        os.mkfifo(manifest)
    elif change == "parquet-int-paths":
        manifest.unlink()
        pq.write_table(pa.table({"path": list(range(10)), "label": ["a"] * 10}), repo / "data/full/manifest.parquet")
        configure(repo, "data/full", "data/dev", label="label", manifest="manifest.parquet")
        code, out = alops(repo, "build", "--no-track")
        assert (code, build[1] in out) == build[:1] + (True,), out
        return
    build_then_check(repo, build, check)


# --- Parquet ---------------------------------------------------------------------------------------


def labels() -> list[str]:
    return ["ab"[i % 2] for i in range(200)]


def nested(path: Path) -> None:
    n = 200
    pq.write_table(
        pa.table(
            {
                "id": list(range(n)),
                "label": labels(),
                "s": [{"a": i, "b": str(i)} for i in range(n)],
                "l": [[i, i + 1] for i in range(n)],
                "m": pa.array([[("k", i)] for i in range(n)], pa.map_(pa.string(), pa.int64())),
                "raw": pa.array([bytes([i % 256, 255]) for i in range(n)], pa.binary()),
            }
        ),
        path,
    )


def not_utf8_text(column: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        values = pa.array([b"a", b"\xff\xfe"] * 100, pa.binary())
        text = pa.Array.from_buffers(pa.string(), len(values), values.buffers())
        other = pa.array(labels()) if column != "label" else text
        pq.write_table(pa.table({"id": list(range(200)), "label": other, "note": text}), path)

    make.__name__ = f"not_utf8_in_{column}"
    return make


def duplicate_names(path: Path) -> None:
    pq.write_table(
        pa.Table.from_arrays([pa.array([1, 2]), pa.array(["a", "b"]), pa.array([3, 4])], ["id", "label", "id"]), path
    )


def not_parquet(path: Path) -> None:
    path.write_text(GOOD)


def empty_parquet(path: Path) -> None:
    path.write_bytes(b"")


def cut_in_half(path: Path) -> None:
    nested(path)
    os.truncate(path, path.stat().st_size // 2)


PARQUET_CASES: list[tuple[Callable[[Path], None], tuple[int, str], tuple[int, str]]] = [
    (nested, (0, "100 of 200 rows"), (0, "representative")),
    (not_utf8_text("label"), (EXIT_CONFIG, "column 'label', row 2: text that is not UTF-8"), (2, "not UTF-8")),
    (not_utf8_text("note"), (EXIT_CONFIG, "column 'note', row 2: text that is not UTF-8"), (2, "not UTF-8")),
    (duplicate_names, (EXIT_CONFIG, "column 'id' appears more than once"), (EXIT_CONFIG, "more than once")),
    (not_parquet, (EXIT_CONFIG, "full.parquet: cannot be read as a Parquet table"), (2, "cannot be read")),
    (empty_parquet, (EXIT_CONFIG, "full.parquet: cannot be read as a Parquet table"), (2, "cannot be read")),
    (cut_in_half, (EXIT_CONFIG, "full.parquet: cannot be read as a Parquet table"), (2, "cannot be read")),
]


@pytest.mark.parametrize(("make", "build", "check"), PARQUET_CASES, ids=[c[0].__name__ for c in PARQUET_CASES])
def test_a_hostile_parquet_table(
    repo: Path, deadline: None, make: Callable[[Path], None], build: tuple[int, str], check: tuple[int, str]
) -> None:
    configure(repo, "data/full.parquet", "data/dev.parquet", label="label")
    make(repo / "data/full.parquet")
    build_then_check(repo, build, check, clean_dev="data/dev.parquet")
    if make is nested:
        found = json.loads((repo / "check-report/report.json").read_text())["skipped"]
        skipped = {s["column"]: s["why"] for s in found}
        assert skipped["s"] == "a nested type (struct<a: int64, b: string>): carried into the dev set, not compared"
        assert skipped["raw"] == "bytes, not text: carried into the dev set, not compared"
        assert pq.read_table(repo / "data/dev.parquet").schema == pq.read_table(repo / "data/full.parquet").schema


@pytest.mark.parametrize("column", ["s", "l", "raw"])
def test_a_nested_or_binary_parquet_column_cannot_make_strata(repo: Path, column: str) -> None:
    configure(repo, "data/full.parquet", "data/dev.parquet", label=column)
    nested(repo / "data/full.parquet")
    code, out = alops(repo, "build", "--no-track")
    assert (code, f"column {column!r} of" in out, "strata need plain values" in out) == (EXIT_CONFIG, True, True), out


def test_the_check_types_columns_as_the_builder_did_not_by_the_dev_sample(repo: Path) -> None:
    """A column 89% numbers in the full data is text to the builder (no corrupt rows); a dev sample where it
    happens to be 90% numbers must not make the check call it numeric and its 10% text corrupt."""
    rows = [f"{i},{'ab'[(i // 10) % 2]},{'n/a' if i % 100 < 11 else i % 50}\n" for i in range(1000)]
    (repo / "data/full.csv").write_text("id,label,c\n" + "".join(rows))
    dev = repo / "data/hand-made.csv"
    dev.write_text("id,label,c\n" + "".join(r for i, r in enumerate(rows) if i % 10 == 5))  # c: 90% numbers
    configure(repo, "data/full.csv", "data/dev.csv", label="label")
    code, out = alops(repo, "build", "--no-track")
    assert (code, "0 of 0 corrupt rows" in out) == (0, True), out
    code, out = alops(repo, "check", "--dev", str(dev))
    assert code == 0, out
    found = json.loads((repo / "check-report/report.json").read_text())
    share = next(f for f in found["findings"] if f["column"] == "corrupt rows")
    assert (share["full"], share["dev"]) == (0, 0)
    assert not any(f["column"] == "c" and f["kind"] == "numeric" for f in found["findings"])


def test_a_parquet_manifest_of_categorical_paths_is_read(repo: Path) -> None:
    manifest_project(repo, [], fmt="parquet")
    names = [f"f{i}.txt" for i in range(40)]
    table = pa.table({"path": pa.array(names).dictionary_encode(), "label": ["ab"[i % 2] for i in range(40)]})
    pq.write_table(table, repo / "data/full/manifest.parquet")
    configure(repo, "data/full", "data/dev", label="label", manifest="manifest.parquet")
    build_then_check(repo, (0, "20 of 40 rows"), (0, "representative"))


def test_a_table_name_with_a_newline_stays_on_its_line_in_the_markdown_report(repo: Path) -> None:
    """A folder table named ``a\\nb|c`.csv`` with a corrupt row: its report line is one line, escaped."""
    folder = repo / "data" / "full"
    folder.mkdir()
    (folder / "a\nb|c`.csv").write_text(GOOD + "1,a,2,3,4\n")  # one row with too many fields
    configure(repo, "data/full", "data/dev")
    code, out = alops(repo, "build", "--no-track")
    assert code == 0, out
    markdown = (repo / "data" / "dev.report.md").read_text()
    (line,) = [ln for ln in markdown.splitlines() if ln.startswith("- `") and "line" in ln]
    assert line.startswith("- `a\\nb\\|c'.csv` line 402: ")


def test_a_table_deleted_before_the_report_is_exit_4(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleted after it was read, when the report adds up the bytes read: a message, not a traceback."""
    (repo / "data" / "full.csv").write_text(GOOD)
    configure(repo, "data/full.csv", "data/dev.csv")
    real = datafiles.size

    def gone(path: Path) -> int:
        path.unlink()
        return real(path)

    monkeypatch.setattr(datafiles, "size", gone)
    code, out = alops(repo, "build", "--no-track")
    assert code == EXIT_DATA
    assert "data/full.csv: deleted while alops read it: run again once nothing writes to the data" in out
    assert not (repo / "data" / "dev.csv").exists()
