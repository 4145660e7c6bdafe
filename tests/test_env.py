"""``alops.env`` names every variable alops reads; the README's settings table lists its settings, and each is read."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from alops import env

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src/alops"
_NAME = re.compile(r"ALOPS_[A-Z0-9_<>]+")


def _modules() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if p.name != "_check.py" and p != SRC / "env.py"]


def _readme_settings() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text("utf-8")
    section = text.split("\n### Settings\n", 1)[1].split("\n#", 1)[0]
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^\| `([^`]+)` \| (.+) \|$", section, re.MULTILINE)]


def test_the_readme_settings_table_is_alops_env_settings() -> None:
    assert _readme_settings() == [(s.name, s.meaning) for s in env.SETTINGS]


def test_no_module_spells_a_variable_name_of_its_own() -> None:
    """A name in a string literal of its own (``env.get("ALOPS_X")``) would be a variable env.py does not list."""
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _NAME.fullmatch(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}")
            elif isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                if isinstance(first, ast.Constant) and str(first.value).startswith("ALOPS_"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: f-string {first.value}…")
    assert found == []


def test_every_setting_is_read_somewhere() -> None:
    """No documented variable that nothing reads: each setting's constant is used outside env.py."""
    constants = {value: name for name, value in vars(env).items() if isinstance(value, str) and name.isupper()}
    families = {env.branches("<role>"): "branches", env.tags("<runner>"): "tags", env.disabled("<job>"): "disabled"}
    used: set[str] = set()
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and node.module == "alops.env":
                used.update(alias.name for alias in node.names)
    unread = [s.name for s in env.SETTINGS if (families.get(s.name) or constants[s.name]) not in used]
    assert unread == []


def test_family_names_follow_the_template_variables() -> None:
    assert (env.branches("experiment"), env.tags("gpu"), env.disabled("devset-check")) == (
        "ALOPS_EXPERIMENT_BRANCHES",
        "ALOPS_GPU_TAGS",
        "ALOPS_DEVSET_CHECK_DISABLED",
    )
