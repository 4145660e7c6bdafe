"""The labelling interface from alops.yaml's classes: hostile class names stay text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from alops.al.labelstudio.interface import SHOWN, instructions, label_config
from alops.al.query.batch import FROM_NAME, TO_NAME

HOSTILE = ("=cmd|' /C calc'!A0", "<b>", '"quote"', "a & b", "]]><x/>", "$sample_id", "é\u00a0ü")


def test_one_choice_per_class_in_order_over_the_sample() -> None:
    root = ET.fromstring(label_config(HOSTILE))
    (choices,) = root.iter("Choices")
    assert (choices.get("name"), choices.get("toName"), choices.get("choice")) == (FROM_NAME, TO_NAME, "single-radio")
    assert [c.get("value") for c in choices] == list(HOSTILE)  # the XML parser gives back the very names
    texts = {t.get("name"): t.get("value") for t in root.iter("Text")}
    assert texts[TO_NAME] == "$sample_id"
    assert sorted(texts.values()) == sorted(f"${field}" for field in SHOWN)


def test_no_class_name_becomes_markup() -> None:
    config = label_config(HOSTILE)
    assert "<b>" not in config and "<x/>" not in config
    assert len(list(ET.fromstring(config).iter())) == len(list(ET.fromstring(label_config(["a"] * 7)).iter()))


def test_instructions_are_text_with_their_line_breaks() -> None:
    assert instructions("Pick <one>\n& only one ") == "Pick &lt;one&gt;<br/>&amp; only one"
    assert instructions("") == ""
