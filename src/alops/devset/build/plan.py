"""What the pass needs fixed before it starts: column types, outlier bounds, the sampling rate.

All of it comes from about 4 MB of lines spread evenly over the full data
(``scan.presample``; a few batches per Parquet file), so it depends on the
files only and every row can be classified, and kept or dropped, as it is read.
"""

from __future__ import annotations

from typing import Any

from alops.devset.build import outliers, sampler
from alops.devset.build.spec import BuildSpec, Outliers
from alops.devset.dataset import csvtypes, parquet, scan, source

#: Safety added to the sampled shares of outliers and corrupt rows (x1.25 + 1 point) when
#: sizing the pool of candidate regular rows: those fill what the capped shares leave.
SHARE_MARGIN = (1.25, 0.01)


def samples(src: source.Source, text: set[str], rule: Outliers | None) -> dict[str, csvtypes.Sampled]:
    """Each table's numeric columns, and sampled values of them (spread evenly over the data)."""
    import numpy as np

    pieces = scan.presample([t.csv for t in src.tables if t.csv is not None])
    out = {}
    for t in src.tables:
        if t.csv is not None:
            out[t.rel] = csvtypes.sample(pieces[t.rel], t.names, t.csv.delimiter, text)
            continue
        numeric = tuple(n for n in parquet.numeric(t.handle) if n not in text)
        wanted = [n for n in numeric if rule is not None and (rule.columns is None or n in rule.columns)]
        batches = list(parquet.sample(t.handle, wanted))
        numbers = {n: np.concatenate([parquet.floats(b.column(n)) for b in batches] or [np.zeros(0)]) for n in wanted}
        out[t.rel] = csvtypes.Sampled(numeric, numbers, sum(b.num_rows for b in batches), 0)
    return out


def plan(
    spec: BuildSpec, src: source.Source, strata: tuple[str, ...], samples: dict[str, csvtypes.Sampled]
) -> sampler.Plan:
    """Outlier bounds and the sampling rate of regular rows, from the evenly spread sample."""
    import numpy as np

    rule = spec.outliers
    rows = sum(s.rows for s in samples.values())
    bad = sum(s.corrupt for s in samples.values())
    bounds: dict[str, outliers.Bounds] = {}
    found = 0
    if rule is not None:
        values: dict[str, list[Any]] = {}
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
    return sampler.Plan(
        seed=spec.seed,
        fraction=fraction,
        count=spec.count,
        regular_rate=min(1.0, (fraction or 1.0) * margin),
        strata=strata,
        bounds=bounds,
        outlier_share=share_o,
        corrupt_share=spec.corrupt_max_share,
        files_base=src.files_base,
    )
