"""``alops al ingest``: accepted labels become one new data version, one commit, pushed with retries.

Steps (the transaction and why it is safe: :mod:`alops.al.ingest.journal`):

1. take the ingest lock; finish or discard what a killed ingest left (:func:`recover`);
2. read the pool and the labelled set (DVC-tracked: absent means not pulled, exit 4),
   then the label file through :func:`alops.al.labels.read_labels`;
3. write rejected rows to ``<batch_dir>/rejected.csv``; ``strict``: any rejected row
   stops here, nothing changed (exit 4); nothing accepted and nothing pseudo: done;
4. stage the new pool, labelled set and round files, write the journal, apply them,
   ``dvc add``, commit (:mod:`alops.al.ingest.publish`);
5. ``push``: ``dvc push``, ``git push``; when the branch moved, take the remote's head
   and its data and apply the same label file again on top (labels the other ingest
   gave are then already labelled), a few times, then a clear error.

Pseudo-labels (:mod:`alops.al.ingest.pseudo`, and any the reader marks
``source=pseudo``) go to the round's log with that flag and never move a row out
of the pool.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from alops import atomic
from alops.al.ingest import journal, labellog, publish, tables
from alops.al.ingest.layout import Layout, layout
from alops.al.ingest.pseudo import pseudo_labels
from alops.al.ingest.report import IngestReport, Recovered, write_rejected
from alops.config import Config
from alops.errors import ConfigError, DataError, ToolError

#: Pushes tried when the branch keeps moving under this ingest.
PUSH_TRIES = 4
STAGING = ".{}.alops-ingest"


def recover(root: Path, env: Mapping[str, str]) -> Recovered:
    """Finish (roll forward) an ingest that a kill stopped after its commit point, or discard its staging."""
    with journal.locked(root):
        return _recover(root, env)


def _recover(root: Path, env: Mapping[str, str]) -> Recovered:
    moving = journal.pending_checkout(root)
    if moving is not None:  # killed between taking the remote's .dvc files and pulling their data
        publish.checkout(root, moving, env)
        return Recovered("checked-out", None)
    plan = journal.pending(root)
    if plan is None:
        had = (root / journal.STATE / journal.STAGES).is_file()
        journal.discard(root)
        return Recovered("discarded" if had else "nothing", None)
    journal.clear_stale_git_lock(root, publish.git_dir(root))
    journal.clear_torn_dvc_lock(root)
    journal.roll_forward(root, plan, publish.record, env)
    return Recovered("finished", plan.ingest_id)


def ingest(
    config: Config,
    source: Path,
    *,
    env: Mapping[str, str],
    push: bool,
    strict: bool,
    now: str | None = None,
    origin: str = "file",
) -> IngestReport:
    """Validate ``source`` and ingest its accepted labels as one new data version (see the module).

    ``origin`` is what the round's record names as its source: ``file`` or ``label-studio``.
    """
    root = config.root
    stamp = now or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with journal.locked(root):
        _recover(root, env)
        where = layout(config)
        dirty = publish.dirty(root, where.commit)
        if dirty:
            raise ConfigError(
                f"{', '.join(dirty)}: uncommitted changes; an ingest commits these files: commit or discard them first"
            )
        name = publish.branch(root, env) if push else None
        ingest_id = uuid.uuid4().hex
        report = _once(config, where, source, stamp, ingest_id, env=env, strict=strict, origin=origin)
        if name is None or (report.commit is None and not publish.is_ingest(root)):
            return report  # not pushing; or nothing new, and HEAD is no ingest commit waiting for its push
        return _push(config, where, source, report, name, stamp, ingest_id, env=env)


def _push(
    config: Config, where: Layout, source: Path, report: IngestReport, name: str, now: str, ingest_id: str,
    *, env: Mapping[str, str],
) -> IngestReport:  # fmt: skip
    """Push HEAD; when the branch moved, take the remote's version and apply ``source`` again, a few times."""
    root = config.root
    dvc_files = [f"{o}.dvc" for o in where.outputs]
    for tries in range(1, PUSH_TRIES + 1):
        try:
            if publish.push(root, dvc_files, name, env):
                return report.pushed_after(tries)
        except ToolError as exc:
            raise ToolError(f"{exc}\n{_UNPUSHED.format(source=source)}") from None
        publish.move_onto_remote(root, name, dvc_files, env)
        report = _once(config, where, source, now, ingest_id, env=env, strict=False, origin=report.origin)
        if report.commit is None:  # the other ingests gave every label of ours already
            return report.pushed_after(tries)
    raise ToolError(
        f"`git push` to {name} was rejected {PUSH_TRIES} times: the branch kept moving (other ingests pushed "
        f"first); {_UNPUSHED.format(source=source)}"
    )


#: What to do when a push failed: the commit is there, and the same command pushes it.
_UNPUSHED = (
    "the new data version is committed here (HEAD): run the same `alops al ingest {source} --push` again, "
    "which finds its labels in and pushes that commit"
)


def _once(
    config: Config,
    where: Layout,
    source: Path,
    now: str,
    ingest_id: str,
    *,
    env: Mapping[str, str],
    strict: bool,
    origin: str,
) -> IngestReport:
    """One attempt: read, validate, stage, journal, apply, commit. The report says what it did."""
    from alops.al.labels import read_labels

    al = config.al
    assert al is not None and al.classes is not None  # layout() required them
    root = config.root
    pool = _table(root, where.pool, al.id_column)
    labelled = _table(root, where.labelled, al.id_column)
    labels_dir = root / where.labels
    if not labels_dir.is_dir() and (root / f"{where.labels.rstrip('/')}.dvc").is_file():
        raise _not_pulled(where.labels)
    read = read_labels(
        source, classes=al.classes, policy=al.annotators, pool_ids=set(pool.ids),
        labelled_ids=tables.labels_of(labelled, al.label_column), now=now,
    )  # fmt: skip
    batch_dir = root / al.batch_dir
    rejected_file = write_rejected(batch_dir, read.rejected, root)
    human = tuple(label for label in read.labels if label.source == "human")
    pseudo = tuple(label for label in read.labels if label.source != "human")
    note = None
    if human:
        taken = {x.sample_id for x in (*human, *pseudo)}
        remaining = {sample for sample in pool.ids if sample not in taken}
        model = labellog.batch_facts(root / al.batch_dir)[1]
        more, note = pseudo_labels(al, root, remaining, now=now, model=model)
        pseudo += more
    base = IngestReport(
        source,
        human,
        pseudo,
        read.rejected,
        len(read.skipped),
        len(read.unchanged),
        rejected_file,
        origin=origin,
        notes=() if note is None else (note,),
    )
    if strict and read.rejected:
        first = read.rejected[0]
        raise DataError(
            f"{len(read.rejected)} rows of {source} were rejected and --strict is set: nothing was ingested; "
            f"the reasons are in {rejected_file} (first: {first.where}: {first.reason})"
        )
    if not human and not pseudo:
        return base
    number = labellog.next_round(labels_dir)
    new_pool, new_labelled = tables.moved(pool, labelled, {x.sample_id: x.label for x in human}, al.label_column)
    counts = {"labelled_after": len(labelled.ids) + len(human), "pool_after": len(pool.ids) - len(human)}
    record = labellog.record(config, number, now, ingest_id, base, counts)
    csv_name, json_name = labellog.names(number)
    files = {
        where.pool: new_pool,
        where.labelled: new_labelled,
        f"{where.labels}/{csv_name}": labellog.round_csv((*human, *pseudo), number),
        f"{where.labels}/{json_name}": labellog.round_json(record),
    }
    plan = _stage(root, where, files, ingest_id, _message(number, len(human), len(pseudo), ingest_id))
    journal.roll_forward(root, plan, publish.record, env)
    sha = publish.git(root, "rev-parse", "HEAD").strip()
    return base.committed(number, sha, **counts)


def _table(root: Path, path: str, id_column: str) -> tables.Table:
    if not (root / path).is_file():
        raise _not_pulled(path)
    return tables.read(root / path, id_column, shown=path)


def _not_pulled(path: str) -> DataError:
    return DataError(
        f"{path} is not in the working tree: it is DVC-tracked data; run `alops data pull` "
        f"(or `dvc pull`) and then the ingest again"
    )


def _stage(root: Path, where: Layout, files: Mapping[str, bytes], ingest_id: str, message: str) -> journal.Plan:
    """Write every new file into the staging folder of its DVC output, then the journal (the commit point)."""
    folders: dict[str, Path] = {}
    for output in where.outputs:
        folders[output] = root / Path(output).parent / STAGING.format(Path(output).name)
    journal.stage(root, list(folders.values()))
    moves = []
    for n, (target, data) in enumerate(files.items()):
        output = next(o for o in where.outputs if target == o or target.startswith(o.rstrip("/") + "/"))
        staged = folders[output] / f"{n}-{Path(target).name}"
        with atomic.writing_to(staged, shown=target):
            journal.write_file(staged, data)
        moves.append((str(staged.relative_to(root)), target))
        journal.checkpoint(f"staged {target}")
    plan = journal.Plan(ingest_id, tuple(moves), where.outputs, where.commit, message)
    journal.commit_point(root, plan, list(folders.values()))
    return plan


def _message(number: int, accepted: int, pseudo: int, ingest_id: str) -> str:
    return (
        f"alops al ingest: round {number}, +{accepted} labels ({pseudo} pseudo)\n\n"
        f"ALOps-Round: {number}\nALOps-Labels: {accepted}\n{publish.trailer(ingest_id)}\n"
    )
