"""Where an ingest reads and writes: the ``active_learning`` files and the DVC outputs that hold them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alops.config import Config
from alops.errors import ConfigError


@dataclass(frozen=True)
class Layout:
    """Where an ingest reads and writes, relative to the repository root."""

    pool: str
    labelled: str
    labels: str
    outputs: tuple[str, ...]  # the DVC outputs holding them (what `dvc add` adds)

    @property
    def commit(self) -> tuple[str, ...]:
        gitignores = dict.fromkeys(str(Path(o).parent / ".gitignore").removeprefix("./") for o in self.outputs)
        return (*(f"{o}.dvc" for o in self.outputs), *gitignores)


def layout(config: Config) -> Layout:
    """The files of ``active_learning`` and their DVC outputs; a pool not tracked by DVC is a ConfigError."""
    from alops.al.datafiles import candidates
    from alops.sections import require

    al = require(config.al, "pool", "labelled", "labels", "classes", command="alops al ingest")
    root = config.root
    outputs: list[str] = []
    for key in ("pool", "labelled", "labels"):
        path = str(getattr(al, key))
        found = next((c for c in candidates(path) if (root / c).is_file()), None)
        if found is None and key != "labels":
            raise ConfigError(
                f"{config.where('active_learning', key)}: active_learning.{key} ({path}) is not tracked by DVC: "
                f"`dvc add` it (or its folder) and commit the .dvc file, so each ingest is a data version"
            )
        output = found.removesuffix(".dvc") if found else path.rstrip("/")
        if output not in outputs:
            outputs.append(output)
    return Layout(str(al.pool), str(al.labelled), str(al.labels), tuple(outputs))
