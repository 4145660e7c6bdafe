"""``alops devset build``: the summary it prints, options over alops.yaml, errors and exit codes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA

CONFIG = {
    "version": 1,
    "datasets": {
        "full": {"targets": ["data/full.dvc"]},
        "dev": {
            "targets": ["data/dev.csv.dvc"],
            "build": {"source": "data/full.csv", "output": "data/dev.csv", "label": "label", "fraction": 0.1},
        },
    },
    "pipeline": {"train": ["train"]},
}


def project(tmp_path: Path, **build: object) -> Path:
    config = yaml.safe_load(yaml.safe_dump(CONFIG))
    config["datasets"]["dev"]["build"].update(build)
    (tmp_path / "alops.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (tmp_path / "data").mkdir()
    lines = [f"{i},{'ab'[i % 4 == 0]},{i % 7}\n" for i in range(1000)]
    lines[500] = "500,a\n"  # a field missing: a corrupt row
    (tmp_path / "data/full.csv").write_text("id,label,x\n" + "".join(lines))
    return tmp_path


def invoke(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["-c", str(root / "alops.yaml"), "devset", "build", *args], env=env, catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def test_build_prints_a_summary(tmp_path: Path) -> None:
    code, out, err = invoke(project(tmp_path), "--no-track")

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Built data/dev.csv from data/full.csv: 100 of 1,000 rows (10.0%), 2 strata, 1 of 1 corrupt rows"
    assert re.fullmatch(r"Read 0\.0 MB in \d+\.\d s \(\d+ MB/s\) on \d+ threads?", lines[1]), lines[1]
    assert lines[2:] == [
        "Report: data/dev.csv.report.json, data/dev.csv.report.md",
        "Not tracked by DVC (--no-track)",
    ]
    assert len((tmp_path / "data/dev.csv").read_text().splitlines()) == 101


def test_options_and_environment_override_alops_yaml(tmp_path: Path) -> None:
    root = project(tmp_path)
    code, out, _ = invoke(root, "--no-track", "--count", "20", "--seed", "3", "--threads", "1")
    assert code == 0 and out.startswith("Built data/dev.csv from data/full.csv: 20 of 1,000 rows (2.0%)")
    seeded = (root / "data/dev.csv").read_bytes()

    code, out, _ = invoke(root, "--no-track", env={"ALOPS_DEVSET_COUNT": "20", "ALOPS_DEVSET_SEED": "3"})
    assert code == 0 and out.startswith("Built data/dev.csv from data/full.csv: 20 of 1,000 rows")
    assert (root / "data/dev.csv").read_bytes() == seeded

    code, out, _ = invoke(root, "--no-track", "--fraction", "0.5")
    assert code == 0 and out.startswith("Built data/dev.csv from data/full.csv: 500 of 1,000 rows (50.0%)")

    # A size on the command line replaces the other size from the environment.
    code, out, _ = invoke(root, "--no-track", "--fraction", "0.3", env={"ALOPS_DEVSET_COUNT": "20"})
    assert code == 0 and out.startswith("Built data/dev.csv from data/full.csv: 300 of 1,000 rows (30.0%)")


def test_build_tracks_the_dev_set_with_dvc(tmp_path: Path) -> None:
    root = project(tmp_path)
    subprocess.run(["git", "init", "--quiet"], cwd=root, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "--quiet"], cwd=root, check=True)

    code, out, err = invoke(root)

    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "Tracked by DVC: data/dev.csv.dvc (commit it with the report)"
    assert "outs:" in (root / "data/dev.csv.dvc").read_text()


def test_both_sizes_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = invoke(project(tmp_path), "--fraction", "0.2", "--count", "5")

    assert (code, out) == (EXIT_CONFIG, "")
    assert err == "Error: give either --fraction or --count, not both\n"
    assert not (tmp_path / "data/dev.csv").exists()


def test_a_missing_source_names_the_key_and_what_to_do(tmp_path: Path) -> None:
    root = project(tmp_path, source="data/elsewhere.csv")

    code, out, err = invoke(root)

    assert (code, out) == (EXIT_DATA, "")
    assert err == (
        f"Error: {root / 'alops.yaml'}:{_line(root, 'source:')}: datasets.dev.build.source: data/elsewhere.csv does not exist: "
        "run `alops data pull` (or `dvc pull`) to get it, or fix the path\n"
    )


def test_a_label_column_that_is_not_in_the_file(tmp_path: Path) -> None:
    root = project(tmp_path, label="target")

    code, out, err = invoke(root, "--no-track")

    assert (code, out) == (EXIT_CONFIG, "")
    assert err == (
        f"Error: {root / 'alops.yaml'}:{_line(root, 'label:')}: datasets.dev.build.label: column 'target' is not in "
        f"{root / 'data/full.csv'}; its columns: id, label, x\n"
    )
    assert sorted(p.name for p in (root / "data").iterdir()) == ["full.csv"]


def test_alops_yaml_without_a_build_section(tmp_path: Path) -> None:
    config = yaml.safe_load(yaml.safe_dump(CONFIG))
    del config["datasets"]["dev"]["build"]
    (tmp_path / "alops.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    code, _, err = invoke(tmp_path)

    assert code == EXIT_CONFIG
    assert err.startswith(f"Error: {tmp_path / 'alops.yaml'}:") and "datasets.dev.build is not set" in err


def test_bad_values_are_refused_before_reading_anything(tmp_path: Path) -> None:
    root = project(tmp_path)
    code, _, err = invoke(root, "--fraction", "0")
    assert (code, err) == (EXIT_CONFIG, "Error: --fraction 0 is out of range: give a share in (0, 1], e.g. 0.1\n")
    code, _, err = invoke(root, "--threads", "0")
    assert code == EXIT_CONFIG and "0 is not in the range x>=1" in err


def _line(root: Path, key: str) -> int:
    return next(i for i, text in enumerate((root / "alops.yaml").read_text().splitlines(), 1) if key in text)
