from __future__ import annotations

import io
from pathlib import Path

import pytest

from alops.errors import DataError
from alops.report import plots

PAIRS = [("0", "0"), ("0", "1"), ("1", "1"), ("1", "1"), ("10", "2"), ("2", "2"), ("2", "0")]


def test_confusion_counts_with_labels_sorted_as_numbers() -> None:
    conf = plots.confusion(PAIRS)
    assert conf.labels == ("0", "1", "2", "10")
    assert conf.counts == ((1, 1, 0, 0), (0, 2, 0, 0), (1, 0, 1, 0), (0, 0, 1, 0))
    assert conf.total == len(PAIRS)


def test_class_scores_agree_with_scikit_learn() -> None:
    from sklearn.metrics import precision_recall_fscore_support

    conf = plots.confusion(PAIRS)
    scores = plots.class_scores(conf)
    actual, predicted = [a for a, _ in PAIRS], [p for _, p in PAIRS]
    p, r, f, s = precision_recall_fscore_support(actual, predicted, labels=list(conf.labels), zero_division=0)
    assert [c.label for c in scores] == list(conf.labels)
    assert [c.precision for c in scores] == pytest.approx(list(p))
    assert [c.recall for c in scores] == pytest.approx(list(r))
    assert [c.f1 for c in scores] == pytest.approx(list(f))
    assert [c.support for c in scores] == list(s)


def test_parse_confusion_names_the_file_when_wrong(tmp_path: Path) -> None:
    assert plots.parse_confusion("actual,predicted\na,b\n", "m.csv").labels == ("a", "b")
    with pytest.raises(DataError, match=r"m.csv has no columns actual and predicted \(it has: x, y\)"):
        plots.parse_confusion("x,y\n1,2\n", "m.csv")
    with pytest.raises(DataError, match="m.csv has no rows"):
        plots.parse_confusion("actual,predicted\n", "m.csv")
    with pytest.raises(DataError, match="missing.csv cannot be read"):
        plots.read_confusion(tmp_path / "missing.csv", "missing.csv")


def _image(data: bytes) -> tuple[int, int]:
    from matplotlib import image

    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = image.imread(io.BytesIO(data), format="png")
    assert pixels.std() > 0.05  # not a blank image
    return pixels.shape[1], pixels.shape[0]


def test_plots_are_png_images_of_a_reasonable_size() -> None:
    conf = plots.confusion(PAIRS)
    width, height = _image(plots.confusion_png(conf, "confusion $x$ <b>"))
    assert 300 <= width <= 1200 and 300 <= height <= 1000
    width, height = _image(plots.class_scores_png(plots.class_scores(conf), "per class"))
    assert 300 <= width <= 1300 and 200 <= height <= 600
    points = [("#1", 0.9), ("#2", 0.92), ("this run", 0.95)]
    width, height = _image(plots.history_png(points, "accuracy", "accuracy on experiment/$lr"))
    assert 300 <= width <= 1300


def test_the_same_data_draws_the_same_bytes() -> None:
    conf = plots.confusion(PAIRS)
    assert plots.confusion_png(conf, "t") == plots.confusion_png(conf, "t")
