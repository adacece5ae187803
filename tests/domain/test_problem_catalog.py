"""Every validation message an event, a custom place or an article can be refused with has its German,
so a German editor never meets an English sentence beside a field, and a message added later without
one fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
GERMAN = ROOT / "timeline" / "translations" / "de" / "LC_MESSAGES" / "messages.po"
# Where the problems an editor meets on a form are worded: the Feature contract, the event form's
# own checks, the editing rules, the custom places and the article page.
SOURCES = [
    ROOT / "timeline" / "domain" / "features.py",
    ROOT / "timeline" / "web" / "event_form.py",
    ROOT / "timeline" / "domain" / "editing.py",
    ROOT / "timeline" / "domain" / "custom_places.py",
    ROOT / "timeline" / "web" / "custom_places.py",
    ROOT / "timeline" / "web" / "articles.py",
]
# The argument that holds the message template, by the name of what is built.
TEMPLATE_ARGUMENT = {"Problem": 1, "Invalid": 0}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _calls(path: Path) -> list[ast.Call]:
    return [
        node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Call)
    ]


def _name(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else None


def marked_templates() -> list[str]:
    """Every message marked with ``N_`` in the files that word problems."""
    found: list[str] = []
    for path in SOURCES:
        for call in _calls(path):
            if _name(call) == "N_":
                [argument] = call.args
                assert isinstance(argument, ast.Constant) and isinstance(argument.value, str)
                found.append(argument.value)
    return sorted(set(found))


def test_problems_are_worded_only_through_marked_templates():
    """A bare or formatted string as a problem's text would escape both extraction and translation."""
    unmarked = []
    for path in SOURCES:
        for call in _calls(path):
            position = TEMPLATE_ARGUMENT.get(_name(call) or "")
            if position is None or len(call.args) <= position:
                continue
            template = call.args[position]
            if isinstance(template, ast.Constant | ast.JoinedStr | ast.BinOp):
                unmarked.append(f"{path.name}:{call.lineno}")
    assert unmarked == []


def test_the_marked_templates_are_found():
    # The check below means nothing if it finds nothing: the contract's core messages are there.
    templates = marked_templates()
    assert "Fill in this field" in templates
    assert any(t.startswith("Enter the end date on or after the start date") for t in templates)
    assert len(templates) > 30


@pytest.fixture(scope="module")
def german() -> Catalog:
    with GERMAN.open("rb") as handle:
        return read_po(handle, locale="de")


@pytest.mark.parametrize("template", marked_templates())
def test_every_problem_template_has_a_german_translation(german, template):
    message = german.get(template)
    assert message is not None, f"no German for {template!r}"
    assert message.string and message.string != template and not message.fuzzy
    assert sorted(PLACEHOLDER.findall(message.string)) == sorted(PLACEHOLDER.findall(template))
