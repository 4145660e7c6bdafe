"""Every file of corpus/ read, with the outcome corpus/expected.yaml gives it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from alops.al.labels import LabelFile
from alops.errors import AlopsError, DataError

Read = Callable[..., LabelFile]

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
FILES = sorted(path.name for path in CORPUS.iterdir() if path.name != "expected.yaml")
INPUTS = ("policy", "reviewer", "min_votes", "classes", "labelled")


def test_every_file_has_an_expectation_and_every_expectation_a_file() -> None:
    assert sorted(EXPECTED) == FILES
    assert len(FILES) >= 40


@pytest.mark.parametrize("name", FILES)
def test_corpus_file(name: str, read: Read) -> None:
    expected = EXPECTED[name]
    options = {key: tuple(value) if key == "classes" else value for key, value in expected.items() if key in INPUTS}
    path = CORPUS / name
    if "error" in expected:
        assert expected["error"] == "DataError"
        with pytest.raises(DataError) as caught:
            read(path, **options)
        message = str(caught.value)
        assert message.startswith(f"{path}:") or message.startswith(f"{path} "), message  # it names the file
        assert re.search(expected["match"], message), message
        return
    try:
        result = read(path, **options)
    except AlopsError as exc:  # pragma: no cover - shown when an expectation is wrong
        pytest.fail(f"{name}: {exc}")
    assert result.format == expected["format"]
    assert {label.sample_id: label.label for label in result.labels} == expected.get("labels", {})
    assert list(result.skipped) == expected.get("skipped", [])
    assert list(result.unchanged) == expected.get("unchanged", [])
    rejected = expected.get("rejected", [])
    assert [row.where for row in result.rejected] == [row["where"] for row in rejected]
    for row, want in zip(result.rejected, rejected, strict=True):
        assert re.search(want["reason"], row.reason), row.reason
