"""The report as files: ``report.md``, ``index.html`` and the plots, in one folder replaced as a whole."""

from __future__ import annotations

from pathlib import Path

from alops.errors import ConfigError
from alops.report.content import Content

#: What a report folder holds; anything else in it means it is not one (and will not be replaced).
NAMES = frozenset({"report.md", "index.html", "confusion.png", "per-class.png", "history.png"})


def check_out(out: Path) -> None:
    """Refuse an ``out`` that is a file, or a folder holding anything but a report's files."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file: name a folder (default alops-report)")
    if out.is_dir():
        others = sorted(p.name for p in out.iterdir() if p.name not in NAMES)
        if others:
            raise ConfigError(
                f"--out {out} holds files that are not a report's ({', '.join(others[:3])}): it would be replaced "
                "as a whole; name an empty or new folder (default alops-report)"
            )


def write(found: Content, out: Path) -> None:
    """Write the report into ``out``: a new folder swapped in whole, so no reader sees half of one."""
    from alops import atomic
    from alops.report import markdown, page

    check_out(out)
    local = {p.file: f"![{p.title}]({p.file})" for p in found.plots}
    with atomic.writing_to(out), atomic.replacing(out, folder=True) as folder:
        for plot in found.plots:
            (folder / plot.file).write_bytes(plot.png)
        (folder / "report.md").write_text(markdown.render(found, local), "utf-8")
        (folder / "index.html").write_text(page.render(found), "utf-8")
