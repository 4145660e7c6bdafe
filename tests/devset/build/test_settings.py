"""``alops.devset.build.settings``: outlier bounds and the sampling rate, fixed from the spread sample before the pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from devset.build.test_run import configure

from alops.devset.build.settings import SHARE_MARGIN, settings
from alops.devset.dataset.columns import Sampled
from alops.devset.dataset.locate import Dataset


def test_the_rate_of_regular_rows_leaves_room_for_what_the_caps_take(tmp_path: Path) -> None:
    data = Dataset("table", tmp_path / "t.csv", "t.csv", ())
    values = np.concatenate([np.zeros(90), np.arange(5, dtype=float), [100.0] * 5])
    sampled = {"": Sampled(("x",), {"x": values}, 110, 10)}
    spec = configure(tmp_path, source="t.csv", output="dev.csv", fraction=0.1, outliers={"rule": "iqr"}, seed=3)
    fixed = settings(spec, data, ("label",), sampled)
    assert (fixed.seed, fixed.fraction, fixed.count, fixed.strata) == (3, 0.1, None, ("label",))
    assert list(fixed.bounds) == ["x"] and fixed.bounds["x"].high < 100
    s_out, s_bad = 9 / 110, 10 / 110  # 4 and 100: outside q1 - 1.5 IQR .. q3 + 1.5 IQR (the IQR is 0)
    grow, add = SHARE_MARGIN
    top = grow * s_out + add + grow * s_bad + add
    assert fixed.regular_rate == pytest.approx(min(1.0, 0.1 * (1 - 0.02 - 0.02) / (1 - top)))
    assert (fixed.outlier_share, fixed.corrupt_share, fixed.files_base) == (0.02, 0.02, None)


def test_a_column_without_spread_under_zscore_has_no_bounds(tmp_path: Path) -> None:
    data = Dataset("table", tmp_path / "t.csv", "t.csv", ())
    sampled = {"": Sampled(("x",), {"x": np.ones(50)}, 50, 0)}
    spec = configure(tmp_path, source="t.csv", output="dev.csv", count=10, outliers={"rule": "zscore"})
    fixed = settings(spec, data, (), sampled)
    assert fixed.bounds == {} and fixed.fraction is None and fixed.count == 10
