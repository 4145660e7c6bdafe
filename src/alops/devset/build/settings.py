"""What the pass needs fixed before it starts: the outlier bounds and the sampling rate (:class:`PassSettings`).

Both come from about 4 MB of lines spread evenly over the full data, the sample
the dataset layer types the columns from (:func:`alops.devset.dataset.columns.sample`),
so they depend on the files only and every row can be classified, and kept or
dropped, as it is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alops.devset.build import outliers
from alops.devset.build.sampler import PassSettings
from alops.devset.build.spec import BuildSpec
from alops.devset.dataset.columns import Sampled
from alops.devset.dataset.locate import Dataset

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: Safety added to the sampled shares of outliers and corrupt rows (x1.25 + 1 point) when
#: sizing the pool of candidate regular rows: those fill what the capped shares leave.
SHARE_MARGIN = (1.25, 0.01)


def settings(spec: BuildSpec, dataset: Dataset, strata: tuple[str, ...], samples: dict[str, Sampled]) -> PassSettings:
    """Outlier bounds and the sampling rate of regular rows, from the evenly spread sample."""
    import numpy as np

    rule = spec.outliers
    rows = sum(s.rows for s in samples.values())
    bad = sum(s.corrupt for s in samples.values())
    bounds: dict[str, outliers.Bounds] = {}
    found = 0
    if rule is not None:
        values: dict[str, list[npt.NDArray[np.float64]]] = {}
        for s in samples.values():
            for name, v in s.numbers.items():
                if rule.columns is None or name in rule.columns:
                    values.setdefault(name, []).append(v)
        bounds = {k: b for k, b in outliers.bounds(rule, values).items() if np.isfinite(b.low) or np.isfinite(b.high)}
        for s in samples.values():
            if s.numbers:
                n = len(next(iter(s.numbers.values())))
                found += int(outliers.flags(bounds, s.numbers, n)[0].sum())
    share_o = rule.max_share if rule else 0.0
    s_out, s_bad = (found / rows, bad / rows) if rows else (0.0, 0.0)
    grow, add = SHARE_MARGIN
    top = (grow * s_out + add if rule else 0.0) + grow * s_bad + add
    # Regular rows fill what outliers and corrupt rows do not take: more than the fraction when their caps bite.
    margin = (1 - min(s_out, share_o) - min(s_bad, spec.corrupt_max_share)) / max(0.05, 1 - top)
    fraction = spec.fraction if spec.count is None else None
    return PassSettings(
        seed=spec.seed,
        fraction=fraction,
        count=spec.count,
        regular_rate=min(1.0, (fraction or 1.0) * margin),
        strata=strata,
        bounds=bounds,
        outlier_share=share_o,
        corrupt_share=spec.corrupt_max_share,
        files_base=dataset.files_base,
    )
