"""``alops.devset.check.compare``: the tests of a check from two tallies, Holm-adjusted, and the shares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from alops.config import load_config
from alops.devset.check.compare import compare, presence, shares
from alops.devset.check.counts import Tally
from alops.devset.check.roles import ColumnRoles
from alops.devset.check.spec import spec_from
from alops.devset.dataset.blocks import Block

from devset_data import write_config

ROLES = ColumnRoles("label", ("x",), (), (), {})


def tally(x: np.ndarray, labels: list[str], edges: np.ndarray) -> Tally:
    out = Tally(ROLES, {"x": edges}, {})
    out.add(Block(Path("t"), len(x), 0, np.zeros(len(x), bool), {"x": x}, {"label": pa.array(labels)}))
    return out


def test_a_shifted_column_fails_ks_and_psi_and_the_label_passes(tmp_path: Path) -> None:
    spec = spec_from(load_config(write_config(tmp_path)))
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, size=500).round(2)
    edges = np.unique(x)  # the dev set's values, as the check cuts its bins
    full = tally(rng.normal(size=5000).round(2), list(rng.choice(["a", "b"], 5000)), edges)
    dev = tally(x, list(rng.choice(["a", "b"], 500)), edges)
    found = {(f.column, f.test): f for f in compare(spec, ROLES, dev, full)}
    assert list(found) == [("label", "chi2"), ("label", "psi"), ("x", "ks"), ("x", "psi")]
    assert not found["x", "ks"].passed and not found["x", "psi"].passed and found["label", "chi2"].passed
    assert found["label", "chi2"].dof == 1 and found["x", "ks"].exact is True  # every dev value is an edge
    assert found["x", "ks"].pvalue is not None and found["x", "ks"].pvalue >= (found["x", "ks"].pvalue_raw or 0)


def test_shares_allow_a_row_of_slack_and_columns_on_one_side_fail(tmp_path: Path) -> None:
    spec = spec_from(load_config(write_config(tmp_path)))
    full, dev = Tally(ROLES, {}, {}), Tally(ROLES, {}, {})
    full.rows, full.corrupt, dev.rows, dev.corrupt = 1000, 10, 100, 2
    (corrupt,) = shares(spec, dev, full)
    assert corrupt.passed and corrupt.share is not None
    assert (corrupt.share.dev, corrupt.share.full, corrupt.share.expected) == (2, 10, 1.0)
    assert (corrupt.share.low, corrupt.share.high) == (0.0, 2.0)
    dev.corrupt = 3
    assert not shares(spec, dev, full)[0].passed
    assert [(f.column, f.detail) for f in presence(["a", "b"], ["a", "c"])] == [
        ("c", "in the full data, not in the dev set"),
        ("b", "in the dev set, not in the full data"),
    ]
