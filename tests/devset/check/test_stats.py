"""The statistics of the check, on counts: checked against scipy where scipy has the same test, and by hand."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats as scipy_stats

from alops.devset.check import stats

#: A population so large that the finite-population correction is nil.
HUGE = 10**15


def floats(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


# --- bins ---------------------------------------------------------------------------------------


def test_edges_are_the_distinct_finite_dev_values() -> None:
    assert stats.edges_from(floats(3, 1, 3, math.nan, 2, math.inf, -math.inf)).tolist() == [1.0, 2.0, 3.0]
    assert stats.edges_from(floats()).tolist() == []


def test_edges_of_many_distinct_values_are_max_edges_quantiles_from_the_minimum_to_the_maximum() -> None:
    values = np.random.default_rng(0).normal(size=10_000)
    edges = stats.edges_from(values)
    assert len(edges) == stats.MAX_EDGES
    assert (edges[0], edges[-1]) == (values.min(), values.max())
    assert (np.diff(edges) > 0).all()


def test_bin_counts_count_each_edge_and_each_interval_between_edges() -> None:
    edges = floats(1, 2, 4)
    values = floats(0, 1, 1, 1.5, 2, 3, 3.5, 4, 9, 9, math.nan, math.inf)
    # (-inf,1) {1} (1,2) {2} (2,4) {4} (4,inf); NaN and infinities are not counted.
    assert stats.bin_counts(edges, values).tolist() == [1, 2, 1, 1, 2, 1, 2]
    assert stats.bin_counts(edges, floats()).tolist() == [0] * 7
    assert stats.bin_counts(floats(), floats(1, 2)).tolist() == [2]


# --- KS -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("discrete", [False, True])
def test_ks_statistic_from_counts_is_scipy_s_two_sample_statistic(discrete: bool) -> None:
    rng = np.random.default_rng(1)
    full = rng.normal(10, 2, 20_000)
    dev = np.concatenate([rng.choice(full, 300, replace=False), rng.normal(14, 2, 100)])
    if discrete:  # many ties
        full, dev = full.round(), dev.round()
    edges = stats.edges_from(dev)  # fewer than MAX_EDGES: every dev value is an edge, so exact
    statistic = stats.ks_statistic(stats.bin_counts(edges, dev), stats.bin_counts(edges, full))
    assert statistic == pytest.approx(scipy_stats.ks_2samp(dev, full).statistic, abs=1e-12)
    assert statistic > 0.1  # the shifted quarter shows


def test_ks_statistic_of_the_same_distribution_is_zero_and_of_empty_counts_zero() -> None:
    assert stats.ks_statistic(ints(1, 2, 0, 1), ints(10, 20, 0, 10)) == 0.0
    assert stats.ks_statistic(ints(0, 0, 0), ints(1, 2, 3)) == 0.0
    assert stats.ks_statistic(ints(1, 2, 3), ints(0, 0, 0)) == 0.0


def test_ks_statistic_of_a_constant_column() -> None:
    edges = stats.edges_from(np.full(50, 3.0))
    assert (
        stats.ks_statistic(stats.bin_counts(edges, np.full(50, 3.0)), stats.bin_counts(edges, np.full(999, 3.0))) == 0
    )
    moved = stats.bin_counts(edges, np.full(999, 4.0))
    assert stats.ks_statistic(stats.bin_counts(edges, np.full(50, 3.0)), moved) == 1.0


def test_ks_pvalue_is_scipy_s_exact_one_sample_test_for_a_small_sample_of_a_large_population() -> None:
    sample = np.random.default_rng(2).normal(0.3, 1, 60)
    result = scipy_stats.kstest(sample, "norm", method="exact")
    assert stats.ks_pvalue(result.statistic, 60, HUGE) == pytest.approx(result.pvalue, rel=1e-9)
    assert result.pvalue < 0.2  # a case that says something


def test_ks_pvalue_with_the_finite_population_correction() -> None:
    # A quarter of the population: n·(N-1)/(N-n) = 100·399/300 = 133 effective values.
    assert stats.effective_n(100, 400) == 133.0
    assert stats.ks_pvalue(0.12, 100, 400) == pytest.approx(float(scipy_stats.kstwo.sf(0.12, 133)), rel=1e-12)
    assert stats.ks_pvalue(0.12, 100, 400) < stats.ks_pvalue(0.12, 100, HUGE)
    assert stats.ks_pvalue(0.5, 0, 400) == 1.0
    assert stats.ks_pvalue(0.0, 100, 400) == 1.0


@pytest.mark.parametrize(("n", "population", "expected"), [(0, 10, 0.0), (10, 10, 10.0), (20, 10, 20.0), (1, 2, 1.0)])
def test_effective_n_without_a_correction(n: int, population: int, expected: float) -> None:
    assert stats.effective_n(n, population) == expected


# --- χ² -----------------------------------------------------------------------------------------


def test_cells_are_observed_and_expected_per_category_in_order_of_expectation() -> None:
    dev = Counter({"A": 60, "B": 25, "C": 15})
    full = Counter({"A": 5000, "B": 3000, "C": 2000})
    assert stats.cells(dev, full) == [(15.0, 20.0), (25.0, 30.0), (60.0, 50.0)]


def test_rare_categories_are_pooled_and_the_pool_takes_in_the_smallest_category_until_it_is_big_enough() -> None:
    # Expected in a dev set of 100: A 60, B 30, C 6, D 2, E 2. D and E pool to 4 < 5: C joins them.
    full = Counter({"A": 600, "B": 300, "C": 60, "D": 20, "E": 20})
    dev = Counter({"A": 58, "B": 31, "C": 7, "D": 1, "E": 0, "F": 3})  # F: not in the full data: a cell of its own
    assert stats.cells(dev, full) == [(31.0, 30.0), (58.0, 60.0), (8.0, 10.0), (3.0, 0.0)]


def test_cells_of_nothing() -> None:
    assert stats.cells(Counter(), Counter({"A": 3})) == []
    assert stats.cells(Counter({"A": 3}), Counter()) == []


def test_a_new_category_with_a_real_share_fails_the_chi2_test() -> None:
    full = Counter({"A": 9000, "B": 1000})
    dev = Counter({"A": 80, "B": 0, "NEW": 20})
    statistic, dof, p = stats.chi2_test(stats.cells(dev, full), 100, HUGE)
    assert (statistic, dof, p) == (math.inf, 2, 0.0)  # NEW is expected 0 times: no share of it is chance


def test_a_category_replaced_by_a_new_one_of_the_same_share_fails() -> None:
    full = Counter({"dog": 90_000, "cat": 10_000})
    dev = Counter({"dog": 900, "Cat": 100})  # every cat of the full data is spelt Cat in the dev set
    cells = stats.cells(dev, full)
    _, _, p = stats.chi2_test(cells, 1000, 100_000)
    assert p < 0.01 or stats.psi([o for o, _ in cells], [e for _, e in cells]) > 0.25
    assert (100.0, 0.0) in cells  # Cat: its own cell, never pooled with a category the full data has


def test_a_rare_category_the_dev_set_misses_is_pooled_and_passes() -> None:
    full = Counter({"dog": 90_000, "cat": 9_800, "axolotl": 200})  # axolotl expected 2 times in 1,000
    dev = Counter({"dog": 900, "cat": 100})
    cells = stats.cells(dev, full)
    assert len(cells) == 2 and stats.chi2_test(cells, 1000, 100_000)[2] > 0.05


def test_chi2_test_is_scipy_s_goodness_of_fit_test() -> None:
    cells = [(60.0, 50.0), (25.0, 30.0), (15.0, 20.0)]
    statistic, dof, p = stats.chi2_test(cells, 100, HUGE)
    expected = scipy_stats.chisquare([60, 25, 15], [50, 30, 20])
    assert statistic == pytest.approx(expected.statistic, rel=1e-9) and statistic == pytest.approx(49 / 12)
    assert (dof, p) == (2, pytest.approx(expected.pvalue, rel=1e-9))


def test_chi2_test_with_the_finite_population_correction() -> None:
    cells = [(60.0, 50.0), (25.0, 30.0), (15.0, 20.0)]
    statistic, dof, p = stats.chi2_test(cells, 100, 400)  # (N-1)/(N-n) = 399/300
    assert statistic == pytest.approx(49 / 12 * 399 / 300)
    assert (dof, p) == (2, pytest.approx(float(scipy_stats.chi2.sf(49 / 12 * 399 / 300, 2))))


@pytest.mark.parametrize("cells", [[], [(100.0, 100.0)], [(7.0, 3.0)]])
def test_chi2_test_of_fewer_than_two_cells_passes(cells: list[tuple[float, float]]) -> None:
    assert stats.chi2_test(cells, 100, 1000) == (0.0, 0, 1.0)


def test_one_category_everywhere_is_one_cell_and_passes() -> None:
    cells = stats.cells(Counter({"A": 50}), Counter({"A": 5000}))
    assert cells == [(50.0, 50.0)] and stats.chi2_test(cells, 50, 5000) == (0.0, 0, 1.0)


def test_chi2_test_of_an_observed_cell_with_no_expectation_is_infinite() -> None:
    assert stats.chi2_test([(5.0, 0.0), (95.0, 100.0)], 100, HUGE)[::2] == (math.inf, 0.0)
    assert stats.chi2_test([(0.0, 0.0), (100.0, 100.0)], 100, HUGE)[::2] == (0.0, 1.0)


# --- PSI ----------------------------------------------------------------------------------------


def test_psi_by_hand() -> None:
    # Shares 0.5/0.5 against 0.4/0.6: 0.1·ln(1.25) + 0.1·ln(1.2).
    assert stats.psi([50, 50], [400, 600]) == pytest.approx(0.1 * math.log(1.25) + 0.1 * math.log(1.2))
    assert stats.psi([50, 50], [400, 600]) == pytest.approx(stats.psi([400, 600], [50, 50]))  # symmetric
    assert stats.psi([10, 20, 30], [100, 200, 300]) == 0.0


def test_psi_floors_empty_bins_instead_of_dividing_by_zero() -> None:
    floor = stats.PSI_FLOOR
    assert stats.psi([0, 100], [500, 500]) == pytest.approx((floor - 0.5) * math.log(floor / 0.5) + 0.5 * math.log(2))


def test_psi_of_empty_counts_is_zero() -> None:
    assert stats.psi([], []) == 0.0
    assert stats.psi([0, 0], [1, 2]) == 0.0
    assert stats.psi([1, 2], [0, 0]) == 0.0
    with pytest.raises(ValueError):
        stats.psi([1, 2], [1, 2, 3])  # counts that are not aligned are a bug, not a statistic


def test_psi_groups_cut_the_full_data_into_bins_of_about_a_tenth() -> None:
    assert stats.psi_groups(np.full(20, 5, dtype=np.int64)).tolist() == [k // 2 for k in range(20)]
    # One fine bin holding half the data: its group is where it starts; the next begins after it.
    groups = stats.psi_groups(ints(10, 50, 10, 10, 10, 10))
    assert groups.tolist() == [0, 1, 6, 7, 8, 9]
    assert stats.psi_groups(ints(0, 0, 0)).tolist() == [0, 0, 0]


def test_grouped_sums_the_counts_of_each_group_over_psi_bins() -> None:
    assert stats.grouped(ints(1, 2, 3, 4), ints(0, 0, 3, 9)) == [3.0, 0, 0, 3.0, 0, 0, 0, 0, 0, 4.0]


# --- moments and quantiles -----------------------------------------------------------------------


def test_moments_added_in_pieces_and_merged_are_numpy_s() -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(1e6, 3, 10_000)  # a large mean: the naive formula would lose the spread
    one, two = stats.Moments(), stats.Moments()
    for piece in np.array_split(values[:6000], 7):
        one.add(piece)
    for piece in np.array_split(values[6000:], 3):
        two.add(np.append(piece, math.nan))
    one.merge(two)
    one.merge(stats.Moments())
    assert one.n == 10_000
    assert one.mean == pytest.approx(values.mean(), rel=1e-14)
    assert one.sd == pytest.approx(values.std(ddof=1), rel=1e-9)
    assert (one.low, one.high) == (values.min(), values.max())


def test_moments_of_nothing_one_value_and_a_constant() -> None:
    empty = stats.Moments()
    empty.add(floats(math.nan, math.inf))
    assert (empty.n, empty.sd, empty.low, empty.high) == (0, 0.0, math.inf, -math.inf)
    one = stats.Moments()
    one.add(floats(7))
    assert (one.n, one.mean, one.sd) == (1, 7.0, 0.0)
    constant = stats.Moments()
    constant.merge(one)
    constant.add(np.full(99, 7.0))
    assert (constant.n, constant.mean, constant.sd, constant.low, constant.high) == (100, 7.0, 0.0, 7.0, 7.0)


def test_quantile_of_a_column_whose_values_are_all_edges_is_the_inverted_cdf() -> None:
    values = np.random.default_rng(5).integers(0, 50, 999).astype(np.float64)
    edges = stats.edges_from(values)
    counts = stats.bin_counts(edges, values)
    for q in (0.01, 0.25, 0.5, 0.9, 1.0):
        expected = np.quantile(values, q, method="inverted_cdf")
        assert stats.quantile(edges, counts, q, values.min(), values.max()) == expected, q


def test_quantile_within_an_interval_is_linear() -> None:
    edges = floats(0, 10)
    values = np.linspace(0.5, 9.5, 10)  # all strictly between the two edges
    counts = stats.bin_counts(edges, values)
    assert stats.quantile(edges, counts, 0.5, 0.0, 10.0) == 5.0
    # Below the first edge and above the last: the column's range bounds the interval.
    assert stats.quantile(floats(10), ints(4, 0, 4), 0.25, 2.0, 30.0) == 6.0
    assert stats.quantile(floats(10), ints(4, 0, 4), 0.75, 2.0, 30.0) == 20.0


def test_quantile_of_no_counts_is_nan() -> None:
    assert math.isnan(stats.quantile(floats(1), ints(0, 0, 0), 0.5, 1.0, 1.0))


# --- Holm ---------------------------------------------------------------------------------------


def test_holm_by_hand() -> None:
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> running maximum 0.06.
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.9]) == [1.0, 1.0]  # capped at 1
    assert stats.holm([0.2]) == [0.2]
    assert stats.holm([]) == []


def test_holm_keeps_the_order_of_ties() -> None:
    assert stats.holm([0.01, 0.01, 0.2]) == pytest.approx([0.03, 0.03, 0.2])


# Moved from test_run.py: the statistics on samples of real-looking data.


def test_ks_from_bins_equals_the_exact_statistic() -> None:
    rng = np.random.default_rng(3)
    full = rng.normal(size=5000).round(2)
    dev = rng.choice(full, 400, replace=False)
    edges = stats.edges_from(dev)
    d_bins, f_bins = stats.bin_counts(edges, dev), stats.bin_counts(edges, full)
    grid = np.unique(np.concatenate([full, dev]))
    exact = np.max(
        np.abs(
            np.searchsorted(np.sort(dev), grid, "right") / 400 - np.searchsorted(np.sort(full), grid, "right") / 5000
        )
    )
    assert stats.ks_statistic(d_bins, f_bins) == pytest.approx(exact)
    assert d_bins[0::2].sum() == 0  # every dev value is an edge: exact


def test_p_values_of_fair_samples_are_uniform() -> None:
    """A dev set drawn at random fails at about the threshold's rate: the tests are calibrated."""
    rng = np.random.default_rng(4)
    n, population = 1000, 8000
    full = rng.normal(size=population)
    labels = rng.choice(list("ABCDE"), size=population, p=[0.4, 0.3, 0.2, 0.08, 0.02])
    ks, chi2 = [], []
    for _ in range(300):
        idx = rng.choice(population, n, replace=False)
        edges = stats.edges_from(full[idx])
        statistic = stats.ks_statistic(stats.bin_counts(edges, full[idx]), stats.bin_counts(edges, full))
        ks.append(stats.ks_pvalue(statistic, n, population))
        chi2.append(stats.chi2_test(stats.cells(Counter(labels[idx]), Counter(labels)), n, population)[2])
    for p in (np.array(ks), np.array(chi2)):
        assert 0.02 < (p < 0.1).mean() < 0.2 and 0.35 < (p < 0.5).mean() < 0.65


def test_holm_adjustment() -> None:
    assert stats.holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])


def test_quantile_from_bins() -> None:
    values = np.arange(1, 101, dtype=float)
    edges = stats.edges_from(values[::10])
    counts = stats.bin_counts(edges, values)
    assert stats.quantile(edges, counts, 0.25, 1.0, 100.0) == pytest.approx(25, abs=1)
    assert stats.quantile(edges, counts, 0.75, 1.0, 100.0) == pytest.approx(75, abs=1)


def test_psi_of_equal_distributions_is_zero_and_grows_with_the_shift() -> None:
    assert stats.psi([10, 20, 30], [100, 200, 300]) == pytest.approx(0)
    assert stats.psi([10, 20, 30], [300, 200, 100]) > 0.5
