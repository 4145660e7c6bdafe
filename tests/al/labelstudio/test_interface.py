"""The labelling interface from alops.yaml's classes: hostile class names stay text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from alops.al.labelstudio.interface import RESERVED, SHOWN, instructions, label_config
from alops.al.query.batch import FROM_NAME, TO_NAME
from alops.errors import ConfigError

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


def test_the_pool_columns_alops_yaml_names_are_shown_with_their_tags() -> None:
    root = ET.fromstring(label_config(["a", "b"], {"image_url": "image", "caption": "text", "page": "hypertext"}))
    assert [(t.tag, t.get("name"), t.get("value")) for t in root if t.tag in ("Image", "HyperText")] == [
        ("Image", "field_image_url", "$image_url"),
        ("HyperText", "field_page", "$page"),
    ]
    texts = {t.get("name"): t.get("value") for t in root.iter("Text")}
    assert texts["field_caption"] == "$caption" and texts[TO_NAME] == "$sample_id"
    (choices,) = root.iter("Choices")
    assert choices.get("toName") == TO_NAME  # the pre-annotations still land where they point


@pytest.mark.parametrize("name", RESERVED)
def test_a_field_may_not_take_a_name_alops_writes(name: str) -> None:
    with pytest.raises(ConfigError, match=f"label_studio.fields: {name} is a field alops writes into every task"):
        label_config(["a"], {name: "text"})
