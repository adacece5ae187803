"""SECURITY.md's table of what the tests check stays true: each group's count is its files' tests."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def count_tests(path: Path) -> int:
    tree = ast.parse(path.read_text())
    return sum(isinstance(node, ast.FunctionDef) and node.name.startswith("test_") for node in tree.body)


def test_the_security_pages_test_counts_are_current():
    text = (ROOT / "SECURITY.md").read_text()
    section = text.split("## What the tests check", 1)[1]
    rows = re.findall(r"^\| ([^|]+) \| (\d+) \| ([^|]+) \|$", section, re.M)
    assert len(rows) >= 8
    for group, count, files in rows:
        paths = [ROOT / p for p in re.findall(r"`([^`]+\.py)`", files)]
        assert paths and all(p.exists() for p in paths), group
        assert sum(count_tests(p) for p in paths) == int(count), f"SECURITY.md: {group.strip()}"
