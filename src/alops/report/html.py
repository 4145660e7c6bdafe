"""Small HTML helpers for alops's self-contained pages (report, experiments).

Every string a caller passes as text is escaped here; only :class:`Markup`
(HTML built by these helpers) goes through as is. Pages carry their CSS
inline and reference nothing outside themselves.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any


class Markup(str):
    """HTML that is already safe: built by these helpers, never from user text."""


def escape(value: Any) -> Markup:
    """The text of ``value`` as HTML (quotes too, so it is safe in attributes)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def element(tag: str, content: Any = "", **attrs: Any) -> Markup:
    """``<tag attr="…">content</tag>``: content and attribute values escaped.

    Attribute names take a trailing ``_`` for Python keywords (``class_``);
    a value of None leaves the attribute out.
    """
    parts = [tag]
    for name, value in attrs.items():
        if value is not None:
            parts.append(f'{name.rstrip("_").replace("_", "-")}="{escape(value)}"')
    return Markup(f"<{' '.join(parts)}>{escape(content)}</{tag}>")


def join(parts: Iterable[Any], sep: str = "\n") -> Markup:
    """Pieces joined, each escaped unless it is :class:`Markup`."""
    return Markup(sep.join(escape(part) for part in parts))


def table(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, caption: str | None = None) -> Markup:
    """A ``<table>``: a header row and body rows, every cell escaped unless it is :class:`Markup`."""
    head = join((element("th", cell, scope="col") for cell in header), "")
    body = join((element("tr", join((_cell(cell) for cell in row), "")) for row in rows), "\n")
    cap = element("caption", caption) if caption else Markup("")
    return Markup(f"<table>{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>")


def _cell(value: Any) -> Markup:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return element("td", f"{value:g}" if isinstance(value, float) else value, class_="num")
    return element("td", value)


def badge(passed: bool, text: str | None = None, *, kind: str | None = None) -> Markup:
    """A pass/fail badge (``PASS`` / ``FAIL`` unless ``text`` says otherwise; ``kind="skip"``: a grey one)."""
    label = text if text is not None else ("PASS" if passed else "FAIL")
    return element("span", label, class_=f"badge {kind or ('pass' if passed else 'fail')}")


def pre(text: str) -> Markup:
    """Preformatted text (commands, JSON), escaped."""
    return element("pre", element("code", text))


def details(summary: str, content: Any) -> Markup:
    """A folded ``<details>`` section."""
    return Markup(f"<details>{element('summary', summary)}\n{escape(content)}\n</details>")


def link(href: str, text: str) -> Markup:
    """A link; ``href`` must be http(s) or a relative path, anything else (``javascript:``) becomes text."""
    if not _safe_href(href):
        return escape(text)
    return element("a", text, href=href)


def _safe_href(href: str) -> bool:
    lowered = href.strip().lower()
    if lowered.startswith(("http://", "https://")):
        return True
    return ":" not in lowered.split("/", 1)[0] and not lowered.startswith("//")


def data_uri(data: bytes, mime: str = "image/png") -> str:
    """``data:`` URI for embedding a file (a plot) in a self-contained page."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image(data: bytes, alt: str, mime: str = "image/png") -> Markup:
    """An ``<img>`` holding ``data`` itself (no external request)."""
    return Markup(f'<img src="{data_uri(data, mime)}" alt="{escape(alt)}">')


CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #1f2328; background: #fff; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 1rem; font-weight: 700;
         font-size: .85rem; color: #fff; }
.badge.pass { background: #1a7f37; }
.badge.fail { background: #cf222e; }
.badge.skip { background: #6e7781; }
.note { color: #57606a; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: .6rem .8rem;
      overflow-x: auto; font-size: .85rem; }
details { margin: .75rem 0; }
summary { cursor: pointer; font-weight: 600; }
img { max-width: 100%; height: auto; border: 1px solid #eaeef2; margin: .25rem .5rem .5rem 0; }
.plots { display: flex; flex-wrap: wrap; align-items: flex-start; }
"""


def page(title: str, body: Any, *, css: str = "") -> str:
    """A whole self-contained HTML document: inline CSS, ``body`` (Markup) inside.

    The Content-Security-Policy forbids loading anything but ``data:`` images
    and the inline style, so a page opened from CI artifacts makes no request.
    """
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}{css}</style>\n</head>\n"
        f"<body>\n{escape(body)}\n</body>\n</html>\n"
    )
