"""The browser tests assert through Playwright's web-first `expect`, which waits for the page, never by reading it
at once: a click that submits a form returns before the next page is drawn, so `assert locator.is_visible()` can
read the old page and fail (or, negated, pass) by timing alone. A CI run failed exactly so."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

E2E = Path(__file__).resolve().parents[1] / "e2e"
# Page and locator reads that return at once instead of waiting; each has a web-first twin in `expect`. `count`
# only without arguments (str.count takes one). `page.content()` is left out on purpose: a leak check reads the whole
# HTML, hidden fields and attributes included, which no `expect` does; it must come after a wait (wait_for_url, a
# positive expect), as every one does today.
IMMEDIATE = {"is_visible", "is_hidden", "is_checked", "is_enabled", "is_disabled", "is_editable", "inner_text",
             "text_content", "inner_html", "input_value", "get_attribute", "title", "all_inner_texts",
             "all_text_contents"}


def _is_sql(node) -> bool:  # func.count() / db.func.count(): a statement, not a page
    return (isinstance(node, ast.Name) and node.id == "func") or (isinstance(node, ast.Attribute)
                                                                   and node.attr == "func")


def _immediate(call) -> bool:
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)) or _is_sql(call.func.value):
        return False
    return call.func.attr in IMMEDIATE or (call.func.attr == "count" and not call.args)


def immediate_reads_in_assertions(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assert):
            for call in ast.walk(node.test):  # the message may read the page: it is only shown on failure
                if _immediate(call):
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
    assert immediate_reads_in_assertions("assert session.scalar(select(func.count())) == 1\n") == []
    assert immediate_reads_in_assertions('assert page.is_visible("text=Guardado")\n') == [(1, "is_visible")]
    assert immediate_reads_in_assertions('assert page.locator("html").get_attribute("lang") == "es"\n') == [
        (1, "get_attribute")]
