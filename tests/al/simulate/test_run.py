"""alops al simulate: learning curves on digits or a CSV file, the same for the same seeds, and clear errors."""

from __future__ import annotations

import csv
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from alops.al.simulate.data import digits, read_csv
from alops.al.simulate.run import Settings, simulate
from alops.cli import cli
from alops.errors import ConfigError, DataError


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["al", "simulate", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_the_curves_are_written_as_csv_and_png(tmp_path: Path) -> None:
    code, out, err = run("--rounds", "3", "--seeds", "2", "--strategy", "margin", "--out", str(tmp_path / "sim"))
    assert code == 0, out + err
    with (tmp_path / "sim" / "curves.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["strategy", "seed", "round", "labelled", "accuracy"]
    keys = [(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows[1:]]
    # Random first (the baseline), then the strategies asked for; 20 initial labels, +20 a round.
    assert keys == [(s, seed, r, 20 + 20 * r) for s in ("random", "margin") for seed in (0, 1) for r in range(4)]
    assert all(0 < float(r[4]) <= 1 for r in rows[1:])
    png = (tmp_path / "sim" / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (700, 450)
    assert "digits: 20 labels, then 3 rounds of 20; 2 seeds; accuracy on 450 held-out samples" in out
    assert out.splitlines()[1].startswith("strategy          labels  accuracy")
    assert out.splitlines()[2].startswith("random                80  0.")
    assert out.endswith(f"Wrote curves.csv, curves.png to {tmp_path / 'sim'}\n")
    assert "margin: 2 x 3 rounds" in err


def test_the_same_seeds_give_the_same_curves_and_other_settings_others() -> None:
    data = digits()
    settings = Settings(strategies=("hybrid", "k-center"), rounds=2, seeds=2)
    first, again = simulate(data, settings), simulate(data, settings)
    assert first.points == again.points
    assert [p.strategy for p in first.points[::3]] == ["random"] * 2 + ["hybrid"] * 2 + ["k-center"] * 2
    other = simulate(data, Settings(strategies=("hybrid",), rounds=2, seeds=2, initial=30))
    assert [p.accuracy for p in other.points] != [p.accuracy for p in first.points[:12]]


def test_margin_learns_faster_than_random_on_digits() -> None:
    # Seeded, so deterministic; margin led random by 1.5 to 3 points at the end with 2 to 4 seeds, 6 or 8 rounds.
    found = simulate(digits(), Settings(strategies=("margin",), rounds=8, seeds=3))
    _, random, _ = found.curve("random")
    labelled, margin, _ = found.curve("margin")
    assert labelled.tolist() == list(range(20, 181, 20))
    assert (margin[3:] > random[3:]).all()
    assert margin[-1] - random[-1] > 0.01
    reached = found.labels_to_reach("margin", float(random[-1]))
    assert reached is not None and reached < 180


def test_a_csv_of_labelled_samples_is_simulated(tmp_path: Path) -> None:
    data = digits()
    path = tmp_path / "labelled.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "label", "split", *(f"p{i:02d}" for i in range(64))])
        for i in range(600):
            label = str(data.labels[i]) if i % 50 else ""  # a few pool rows, no label
            writer.writerow([f"d{i:04d}", label, "train", *data.features[i].astype(int)])
        writer.writerow(["bad", "3", "train", "x", *([0] * 63)])
        writer.writerow(["typo", "12", "train", *([0] * 64)])
    code, out, err = run("--data", str(path), "--drop-column", "split", "--rounds", "2", "--seeds", "1",
                         "--strategy", "entropy", "--out", str(tmp_path / "sim"))  # fmt: skip
    assert code == 0, out + err
    assert "left out 12 rows without a label" in err
    assert "classes with a single sample (a typo in the label?): '12'" in err
    assert f"left out 1 row that is not all numbers (first: {path}:602: column 'p00' holds 'x')" in err
    assert out.startswith("labelled.csv: 20 labels, then 2 rounds of 20; 1 seed; accuracy on 147 held-out samples")
    found = read_csv(path, label_column="label", drop=("split",))
    assert found.classes == (*(str(c) for c in range(10)), "12") and found.features.shape == (589, 64)
    np.testing.assert_array_equal(found.features[0], data.features[1])


def test_bad_options_and_data_say_what_is_wrong(tmp_path: Path) -> None:
    code, out, err = run("--rounds", "100", "--out", str(tmp_path / "sim"))
    assert code == 2
    assert "100 rounds of 20 after 20 initial labels need 2020 samples, but digits has 1347" in err
    assert not (tmp_path / "sim").exists()
    code, _, err = run("--strategy", "uncertainty", "--out", str(tmp_path / "sim"))
    assert code == 2 and "'uncertainty' is not one of 'random', 'least-confidence'" in err
    code, _, err = run("--seeds", "0", "--out", str(tmp_path / "sim"))
    assert code == 2 and "0 is not in the range x>=1" in err
    code, _, err = run("--data", str(tmp_path / "none.csv"), "--out", str(tmp_path / "sim"))
    assert code == 4 and "the data file" in err and "none.csv does not exist" in err
    (tmp_path / "text.csv").write_text("id,label,split,a\n1,x,train,0.5\n2,y,test,0.25\n")
    with pytest.raises(DataError, match="no column 'class': its columns are 'id', 'label', 'split', 'a'"):
        read_csv(tmp_path / "text.csv", label_column="class")
    with pytest.raises(DataError, match=r"text.csv:2: column 'split' holds 'train'\): leave out the columns"):
        read_csv(tmp_path / "text.csv", label_column="label")
    with pytest.raises(ConfigError, match="--drop-column names 'spilt', which"):
        read_csv(tmp_path / "text.csv", label_column="label", drop=("spilt",))
    (tmp_path / "one.csv").write_text("label,a\n1,0.5\n1,0.25\n")
    with pytest.raises(DataError, match="holds 1 class in 2 labelled rows: a simulation needs labelled samples of at"):
        read_csv(tmp_path / "one.csv", label_column="label")
    with pytest.raises(ConfigError, match="unknown strategy 'best'"):
        simulate(digits(), Settings(strategies=("best",)))
