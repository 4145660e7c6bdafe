"""The labelling interface of the project, generated from ``active_learning.classes``.

One ``Choices`` tag (``label``, :data:`alops.al.query.batch.FROM_NAME`) over the
sample (``sample``, :data:`alops.al.query.batch.TO_NAME`, a ``Text`` of its id), so
the pre-annotations of ``tasks.json`` land on it; below it the query's
strategy and row of each sample, which the annotator may want to see.
Class names are anyone's text: every one is XML-escaped into an attribute, so
``<b>``, ``"quote"`` or ``=cmd|' /C calc'!A0`` stay labels, never markup.
Instructions are shown as text too: HTML in alops.yaml is escaped, line breaks kept.
The pool's columns alops.yaml names in ``label_studio.fields`` are shown above the
choices, each with the tag of its kind (their names are plain identifiers: the
schema allows no other).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import quoteattr

from alops.al.query.batch import FROM_NAME, TO_NAME
from alops.errors import ConfigError

#: The fields of a task's ``data`` the interface shows (``alops.al.query.batch.tasks`` writes them all). Not the
#: score: it is null for k-center's first pick, and the server refuses a task whose shown field is null.
SHOWN = ("sample_id", "strategy", "index")
#: The data fields alops writes into every task: a pool column of ``label_studio.fields`` may not take their names.
RESERVED = ("sample_id", "index", "score", "strategy")
#: The Label Studio object tag of each kind of field.
TAGS = {"text": "Text", "image": "Image", "hypertext": "HyperText"}


def label_config(classes: Sequence[str], fields: Mapping[str, str] | None = None) -> str:
    """The interface's XML: the fields shown, then the class names as single-choice options, in alops.yaml's order."""
    shown = dict(fields or {})
    taken = [name for name in shown if name in RESERVED]
    if taken:
        raise ConfigError(
            f"active_learning.label_studio.fields: {', '.join(taken)} is a field alops writes into every task "
            f"({', '.join(RESERVED)}): rename the pool's column or leave it out"
        )
    choices = "\n".join(f"    <Choice value={quoteattr(name)}/>" for name in classes)
    columns = "".join(
        f'  <Header value={quoteattr(name)} size="6"/>\n  <{TAGS[kind]} name="field_{name}" value="${name}"/>\n'
        for name, kind in shown.items()
    )
    return (
        "<View>\n"
        f"{columns}"
        '  <Header value="Sample"/>\n'
        f'  <Text name="{TO_NAME}" value="$sample_id"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single-radio" showInline="true" required="true">\n'
        f"{choices}\n"
        "  </Choices>\n"
        '  <View style="opacity: 0.6">\n'
        '    <Header value="Chosen by" size="6"/>\n'
        '    <Text name="strategy" value="$strategy"/>\n'
        '    <Header value="Row in the scores file" size="6"/>\n'
        '    <Text name="index" value="$index"/>\n'
        "  </View>\n"
        "</View>"
    )


def instructions(text: str) -> str:
    """alops.yaml's instructions as the HTML Label Studio shows annotators: escaped, line breaks kept."""
    return "<br/>".join(html.escape(line) for line in text.strip().splitlines())
