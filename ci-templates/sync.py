"""Write ci-templates/*.yml from templates/*.yml, the single source of the alops CI templates.

``templates/`` is the CI/CD component layout (``include: component:``); the same
files are served as ``ci-templates/<name>.yml`` for ``include: project|remote|local``.
They are copies, not symlinks: GitLab reads an included file's blob from the
repository and does not follow a symlink to its target, so a symlinked include
would be the link's path text, not YAML. tests/test_templates.py fails when a
copy is stale.

    python ci-templates/sync.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "templates"
COPIES = ROOT / "ci-templates"
NAMES = ("alops.yml", "workflow.yml")


def banner(name: str) -> str:
    return f"# Generated from templates/{name} by `python ci-templates/sync.py`: edit that file, not this one.\n"


def expected(name: str) -> str:
    """The content ci-templates/<name> must have."""
    return banner(name) + (SOURCE / name).read_text()


def main(argv: list[str]) -> int:
    stale = [name for name in NAMES if not (COPIES / name).exists() or (COPIES / name).read_text() != expected(name)]
    if "--check" in argv:
        for name in stale:
            print(f"ci-templates/{name} is stale: run `python ci-templates/sync.py`", file=sys.stderr)
        return 1 if stale else 0
    for name in stale:
        tmp = COPIES / f".{name}.tmp"
        tmp.write_text(expected(name))
        tmp.replace(COPIES / name)
        print(f"wrote ci-templates/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
