"""What every page draws the same way: the URLs that take nothing from the page (caseapp.templating.plain_url,
remembered per app), one CSRF token for all of a page's forms, and a case's sections asked of its owner's staff by
their roles alone (authz.case_sections)."""
from __future__ import annotations

import re
from datetime import date

import pytest
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

from caseapp import authz
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.services.primitives import load_case
from tests.cases_factory import make_case


@pytest.fixture
def ana_and_case(app, factory):
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    with app.test_request_context():
        code = make_case(ana.id, identified_on=date(2025, 3, 10))
    return ana, code


def _hrefs(html: str) -> set[str]:
    return set(re.findall(r'(?:href|src)="([^"]+)"', html))


def test_the_navigation_and_static_files_follow_the_script_root_of_each_request(client, login_as, ana_and_case):
    """Behind a proxy that mounts Ruta under a path, the remembered URLs are that path's, and the next request's
    own again (remembered by script root: the first request's would otherwise be drawn for every later one)."""
    ana, _code = ana_and_case
    login_as(ana)
    mounted = _hrefs(client.get("/cases/", environ_overrides={"SCRIPT_NAME": "/ruta"}).get_data(as_text=True))
    plain = _hrefs(client.get("/cases/").get_data(as_text=True))
    for root, hrefs in (("/ruta", mounted), ("", plain)):
        assert {f"{root}/cases/", f"{root}/notifications/", f"{root}/auth/account",
                f"{root}/static/css/ruta.css"} <= hrefs, (root, sorted(hrefs))
    assert not any(h.startswith("/ruta/") for h in plain)
    assert all(h.startswith(("/ruta/", "#")) for h in mounted if h.startswith("/") or h.startswith("#")), mounted


def test_the_case_pages_forms_carry_her_sessions_one_token(app, client, factory, login_as, ana_and_case):
    """Every form of the page carries one token, her session's: another session's page carries its own, and a token
    is refused on the other session (a token kept for the process, or for the app, would pass both)."""
    ana, code = ana_and_case
    bea = factory.user("bea", roles=("social_worker",), entity="SDIS")
    other = app.test_client()
    login_as(ana)
    login_as(bea, other)
    tokens = {}
    for name, c in (("ana", client), ("bea", other)):
        drawn = re.findall(r'name="csrf_token" value="([^"]+)"', c.get(f"/cases/{code}").get_data(as_text=True))
        assert len(drawn) >= 4  # sign out, a consent, the status moves, the erasure request
        assert len(set(drawn)) == 1
        tokens[name] = drawn[0]
    assert tokens["ana"] != tokens["bea"]
    assert other.post("/auth/logout", data={"csrf_token": tokens["ana"]}).status_code == 400
    assert client.post("/auth/logout", data={"csrf_token": tokens["ana"]}).status_code == 302
    assert client.get(f"/cases/{code}").status_code == 302  # signed out: the token was her session's own
    assert other.get(f"/cases/{code}").status_code == 200  # the refused one is still signed in


def test_a_page_drawn_without_a_form_gives_no_token(client):
    page = client.get("/no-such-page")  # drawn with the site's layout, which has no form for a stranger
    assert page.status_code == 404 and "<html" in page.get_data(as_text=True)
    with client.session_transaction() as s:
        assert "csrf_token" not in s


@pytest.mark.parametrize("roles, sections", [
    (("social_worker",), {"identity", "account", "summary", "psychosocial", "legal"}),
    (("lawyer",), {"identity", "account", "summary", "legal"}),
    (("coordinator",), set()),
    (("auditor",), set()),
])
def test_the_owners_staff_read_the_sections_of_their_roles_on_every_path(app, factory, roles, sections):
    """case_sections (one case: the case page, its forms, its attachments) and sections_of_cases (a list of them)
    give the same sections for the case's own entity, and none to another entity without a referral."""
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    reader = factory.user("reader", roles=roles, entity="SDIS")
    stranger = factory.user("stranger", roles=roles, entity="OTRA")
    with app.test_request_context():
        code = make_case(ana.id, identified_on=date(2025, 3, 10))
        case = load_case(code)
        for user, expected in ((db.session.get(User, reader.id), sections),
                               (db.session.get(User, stranger.id), set())):
            assert authz.case_sections(user, case) == expected
            assert authz.sections_of_cases(user, [case]) == {case.id: expected}
        db.session.get(User, reader.id).set_roles(("lawyer",))  # her roles as they are now, not as first asked
        assert authz.case_sections(db.session.get(User, reader.id), case) == (
            {"identity", "account", "summary", "legal"})
        db.session.get(User, reader.id).active = False  # a disabled account reads nothing, on both paths
        assert authz.case_sections(db.session.get(User, reader.id), case) == frozenset()
        assert authz.sections_of_cases(db.session.get(User, reader.id), [case]) == {case.id: frozenset()}
        db.session.rollback()


_HOSTILE = ("CTG-2025-00001", "a b/c?d=e&f#g", "%2F..%00", "ñandú ü", "x'\"<>", "")


def _values_for(rule, text: str):
    """Values for every argument of `rule`: `text` for a string or path, a number for an int; None for another
    converter (not drawn here)."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, IntegerConverter):  # the app's own BoundedIntConverter among them
            values[name] = len(text) + 7
        elif isinstance(converter, (UnicodeConverter, PathConverter)):
            values[name] = text
        else:
            return None
    return values


def _either(draw, endpoint, values):
    try:
        return draw(endpoint, **values)
    except Exception as error:  # noqa: BLE001 - the same refusal is the answer to compare
        return type(error)


@pytest.mark.parametrize("script_root", ["", "/ruta"])
def test_every_url_a_template_draws_is_flasks_own(app, script_root):
    """plain_url gives exactly Flask's url_for for every rule of the app, with hostile values (quoting, slashes,
    percent signs, accents, an empty value), the first time (learnt) and every time after (drawn by the learnt
    way, with other values than those it learnt from), an extra value as a query string, and None as Flask has it."""
    from flask import url_for

    from caseapp.templating import plain_url

    with app.test_request_context(environ_overrides={"SCRIPT_NAME": script_root}):
        checked, drawn_endpoints = 0, set()
        for rule in app.url_map.iter_rules():
            for text in _HOSTILE:
                values = _values_for(rule, text)
                if values is None:
                    continue
                for extra in ({}, {"page": text or "2"}, {next(iter(values), "x"): None} if values else {"x": None}):
                    drawn = {**values, **extra}
                    for _ in range(2):
                        assert _either(plain_url, rule.endpoint, drawn) == _either(url_for, rule.endpoint, drawn), (
                            rule.rule, drawn)
                    checked += 1
                    drawn_endpoints.add(rule.endpoint)
        assert checked > 500
        assert {"referrals.detail", "route.update_step"} <= drawn_endpoints  # rules with an <int:...> id


def test_a_learnt_url_is_drawn_without_flasks_search(app, monkeypatch):
    """After its first use, a case's URL (one rule, a code) and a URL that takes nothing are drawn without Flask's
    url_for: the cost the page saves (~20 us a URL, forty URLs a case page)."""
    from caseapp import templating

    asked = []
    real = templating.url_for
    monkeypatch.setattr(templating, "url_for", lambda endpoint, **values: asked.append(endpoint) or real(endpoint, **values))
    with app.test_request_context():
        first = [templating.plain_url("cases.edit", code="CTG-1"), templating.plain_url("cases.index")]
        again = [templating.plain_url("cases.edit", code="SDIS-2"), templating.plain_url("cases.index")]
    assert asked == ["cases.edit", "cases.index"]
    assert first == ["/cases/CTG-1/edit", "/cases/"] and again == ["/cases/SDIS-2/edit", "/cases/"]


def test_a_url_learnt_for_one_host_is_not_drawn_for_another():
    """With subdomains matched, a URL drawn relative for its own subdomain is absolute from another: what was learnt
    for one host is not drawn for the next."""
    from flask import Flask, url_for

    from caseapp.templating import plain_url

    toy = Flask("toy", subdomain_matching=True)
    toy.config["SERVER_NAME"] = "example.com"
    toy.add_url_rule("/x", "x", lambda: "", subdomain="api")
    toy.add_url_rule("/y/<code>", "y", lambda code: "", subdomain="api")
    for host in ("api.example.com", "www.example.com", "api.example.com", "www.example.com"):
        with toy.test_request_context(base_url=f"http://{host}/"):
            assert plain_url("x") == url_for("x") and plain_url("y", code="a b") == url_for("y", code="a b"), host


def test_a_clients_host_header_does_not_fill_the_learnt_urls(app):
    """The app matches no hosts: what is learnt does not depend on the Host a client sends, so a client sending a
    new one with each request cannot use up the room kept for kinds of URL (nothing new would be learnt after)."""
    from caseapp.templating import _PLAIN_URLS, plain_url

    def draw(host):
        with app.test_request_context(base_url=f"http://{host}/"):
            assert plain_url("cases.index") == "/cases/" and plain_url("cases.edit", code="A") == "/cases/A/edit"
        return len(app.extensions[_PLAIN_URLS])

    learnt = draw("ruta.example.org")
    assert all(draw(f"h{n}.example.net") == learnt for n in range(50))
