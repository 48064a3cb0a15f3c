"""The browser tests assert through Playwright's web-first `expect`, which waits for the page, never by reading it
at once: a click that submits a form returns before the next page is drawn, so `assert locator.is_visible()` can
read the old page and fail (or, negated, pass) by timing alone. A CI run failed exactly so."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

E2E = Path(__file__).resolve().parents[1] / "e2e"
# Locator reads that return at once instead of waiting; each has a web-first twin in `expect`.
IMMEDIATE = {"is_visible", "is_hidden", "is_checked", "is_enabled", "is_disabled", "count", "inner_text",
             "text_content", "input_value", "all_inner_texts", "all_text_contents"}


def _is_sql(node) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "func"  # db.func.count(): a statement, not a page


def immediate_reads_in_assertions(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assert):
            for call in ast.walk(node.test):  # the message may read the page: it is only shown on failure
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr in IMMEDIATE and not call.args and not _is_sql(call.func.value)):
                    found.append((node.lineno, call.func.attr))
    return found


@pytest.mark.parametrize("path", sorted(E2E.glob("test_*.py")), ids=lambda p: p.name)
def test_browser_tests_assert_with_waiting_expectations(path):
    assert immediate_reads_in_assertions(path.read_text()) == []


def test_the_check_finds_an_immediate_read():
    assert immediate_reads_in_assertions('assert page.get_by_text("Guardado.").is_visible()\n') == [(1, "is_visible")]
    assert immediate_reads_in_assertions('assert not page.locator("p").count()\n') == [(1, "count")]
    assert immediate_reads_in_assertions('assert "/" in s.count("/")\nexpect(x).to_be_visible()\n') == []
    assert immediate_reads_in_assertions("assert db.session.scalar(select(db.func.count())) == 1\n") == []
