"""Pseudo-labels: the model's own confident predictions, logged as such, never mixed with human labels.

When ``active_learning.pseudo_labels.min_confidence`` is set, a round that accepts
human labels also logs, with ``source=pseudo``, every sample still in the pool
whose largest class probability in the scores file (``active_learning.scores``,
what the query read) is at least that: the predicted class, its probability as
``confidence``, ``votes`` 0, the annotator ``model:<model version>``. They stay
in the pool and never join the labelled set; a training stage that wants them
reads the label log (each round's rows are the scores of that round's model).
A round without new human labels logs none: running the same ingest again is
then still a no-op. A scores file that is not in the working tree gives no
pseudo-labels (and a note), never a failed ingest: human labels come first.
"""

from __future__ import annotations

from collections.abc import Set
from pathlib import Path

import numpy as np

from alops.al.labels import Label
from alops.sections import ActiveLearning


def pseudo_labels(
    al: ActiveLearning, root: Path, remaining: Set[str], *, now: str, model: str | None
) -> tuple[tuple[Label, ...], str | None]:
    """The round's pseudo-labels, and a note when they were left out; none when the setting is off."""
    from alops.al.query.pool import FilePool

    if al.pseudo_min_confidence is None:
        return (), None
    if al.scores is None:
        return (), "pseudo-labels left out: active_learning.scores (the pool's class probabilities) is not set"
    path = root / al.scores
    if not path.is_file():
        return (), f"pseudo-labels left out: the scores file {al.scores} is not in the working tree"
    pool = FilePool(path, al.id_column)
    classes = pool.classes or al.classes or ()
    known = set(al.classes or ())
    who = f"model:{model or path.name}"
    out: list[Label] = []
    for chunk in pool.chunks():
        probs = np.asarray(chunk.probs, dtype=np.float64)
        best, top = probs.argmax(axis=1), probs.max(axis=1)
        for row in np.flatnonzero(top >= al.pseudo_min_confidence):
            sample = str(chunk.ids[row]) if chunk.ids is not None else str(chunk.start + int(row))
            name = classes[int(best[row])] if int(best[row]) < len(classes) else None
            if sample in remaining and name in known:
                out.append(Label(sample, str(name), who, now, "pseudo", 0, float(top[row]), None))
    return tuple(out), None
