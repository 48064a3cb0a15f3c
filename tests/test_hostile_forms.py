"""Hostile input: every web form and every API body, fed malformed and hostile values (hypothesis).

Forms are discovered from the pages that show them (each POST form's action is matched to its endpoint through
``app.url_map``); a web POST route with no form found and no reason written in ``NO_FORM`` fails loudly with its
endpoint name. API bodies come from the OpenAPI document (every POST/PATCH operation).

For every request: never a 5xx; a refused request (4xx, or a redirect carrying an error message) explains itself
(HTML: an error message on the page or flashed; JSON: a "message") and writes nothing — every table but the access
log and session bookkeeping is unchanged, row for row, so a case's ``version`` is unchanged too; an HTML answer
never echoes a hostile ``<script>`` unescaped.

All endpoints are fuzzed inside one test per side (web, API) and every failure is collected, so one run names every
broken endpoint with a falsifying input. RUTA_HOSTILE_EXAMPLES sets the examples per endpoint (default 20);
runs are deterministic unless RUTA_HOSTILE_RANDOM=1 (explore with a random seed); RUTA_IGNORE_KNOWN_BUGS=1 reports
the endpoints listed in KNOWN_BUGS too.
"""
from __future__ import annotations

import json
import os
import secrets
import traceback

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from tests.conftest import Factory
from tests.world import (
    PG_INT_BUG,
    PG_NUL_BUG,
    app_routes,
    build_world,
    diff_snapshots,
    endpoint_of,
    flashes,
    form_payload,
    get_forms,
    has_nul,
    is_api,
    logged_in_client,
    make_module_app,
    page_csrf,
    post_forms,
    snapshot,
)

EXAMPLES = int(os.environ.get("RUTA_HOSTILE_EXAMPLES", "20"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    derandomize=not os.environ.get("RUTA_HOSTILE_RANDOM"),  # deterministic unless asked
                    # No shrinking: accepted examples change the world, so a replay could differ.
                    phases=(Phase.explicit, Phase.generate),
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])

# Web POST routes fuzzed elsewhere or without a form worth fuzzing, with the reason.
NO_FORM = {
    "legal.end_measure": "offered on a granted measure only (the world's is requested); the same date-and-version "
                         "form as the decision, which is fuzzed; its rules: tests/test_legal_follow_up.py",
    "notifications.read_one": "a button with only the CSRF token, on one's own unread notifications (the world "
                              "has none; tests/test_notifications.py)",
    "notifications.read_all": "a button with only the CSRF token, shown with unread notifications "
                              "(tests/test_notifications.py)",
    "notifications.open_one": "a button with only the CSRF token, on one's own notifications (opens and marks it "
                              "read; the world has none; tests/test_notifications.py)",
    "auth.logout": "a button with only the CSRF token; ends the session the fuzzer uses",
    "auth.logout_everywhere": "a button with only the CSRF token; ends the session the fuzzer uses",
    "auth.verify": "second login step: only reachable in the middle of a login (tests/web/test_auth.py)",
    "auth.recovery": "second login step: only reachable in the middle of a login (tests/web/test_auth.py)",
    "auth.enrol": "second login step: only reachable in the middle of a login (tests/web/test_auth.py)",
    "indicators.plans_confirm": "confirms an uploaded plan held in the session; the upload form is fuzzed",
    "admin.entity_reactivate": "offered on an inactive entity only; the same version-only form as deactivate",
    "admin.request_approve": "a button with only the CSRF token, offered on a pending four-eyes request only "
                             "(tests/web/test_four_eyes.py)",
    "admin.request_reject": "a button with only the CSRF token, offered on a pending four-eyes request only "
                            "(tests/web/test_four_eyes.py)",
    "indicators.product": "its value form exists for manual-formula products only (product 3.5 is computed)",
    "route.reopen_case": "offered on a closed case only (tests/web/test_route_web.py)",
    "cases.send_child_referral": "a button with only the CSRF token, offered on a child's case without its ICBF "
                                 "referral only (tests/test_route_walk.py)",
}

# Bugs found by this file and not fixed yet: the endpoint's failures are reported but tolerated here, and each has
# its own xfail(strict=True) test at the end of the file (a fix turns that test into an XPASS failure: then
# delete the entry).
_NO_MESSAGE = ("422 page without any message: the service's Invalid has no field errors (\"The form is incomplete\", "
               "from check_version for a version that is not a number) and _apply_errors in caseapp/web/route/routes.py "
               "drops error.message")
KNOWN_BUGS: dict[str, str] = {}  # endpoint -> the bug, while it stands (each then has a strict xfail)

if os.environ.get("RUTA_IGNORE_KNOWN_BUGS"):  # re-check whether the known bugs are still there
    KNOWN_BUGS = {}

# Writes a refused request may make, with the reason.
ALLOWED_WRITES = {
    "auth.account_recovery_codes": {"users"},  # a failed re-authentication is counted on the account (lockout)
    "auth.account_password": {"users"},
    "auth.login": {"users"},
}

# Pages that show the forms, and who opens them. {own}: BETA's case; {ref}: the referral BETA received.
PAGES = [
    ("anon", "/auth/login"),
    ("sw", "/auth/account"),  # failed re-authentication locks the account: not the main fuzzing user
    ("swlw", "/cases/new"),
    ("swlw", "/cases/"),
    ("swlw", "/cases/{own}"),
    ("swlw", "/cases/{own}/edit"),
    ("swlw", "/route/cases/{own}"),
    ("swlw", "/legal/cases/{own}"),
    ("swlw", "/route/cases/{fresh}"),
    ("swlw", "/referrals/cases/{own}/new"),
    ("swlw", "/cases/{own}/family"),
    ("swlw", "/cases/{own}/family/{member}/edit"),
    ("swlw", "/cases/{own}/safety"),
    ("swlw", "/referrals/{ref}"),
    ("swlw", "/referrals/{sent}"),
    ("co", "/referrals/override"),
    ("co", "/indicators/products/3.5"),
    ("ad", "/admin/users/new"),
    ("ad", "/admin/users/{target}"),
    ("ad", "/admin/users/{inactive}"),
    ("ad", "/admin/entities/new"),
    ("ad", "/admin/entities/{target_entity}"),
    ("ad", "/cases/admin/purposes"),
    ("ad", "/cases/admin/erasure-requests"),
    ("ad", "/route/admin"),
    ("ad", "/indicators/admin/suppression"),
    ("ad", "/indicators/admin/plans"),
    ("ad", "/indicators/admin/products/{product_id}"),
    ("ad", "/audit/alerts/thresholds"),
    ("ad", "/attachments/admin/limit"),
    ("swlw", "/cases/{own}/assignments"),
    ("ad", "/assignments/reassign"),  # last: a valid move takes swlw's cases away
]

HOSTILE_TEXT = [
    "", " ", "\x00", "abc\x00def", "A" * 100_000, "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>",
    "'; DROP TABLE cases;--", "' OR '1'='1", "{{7*7}}", "${7*7}", "../../../etc/passwd", "%00", "=cmd|' /C calc'!A0",
    "\u202eabc", "\ufeff", "𝕏𝔶𝔷", "ﬀİı", "Z̸̢͕a̴l̶g̵o̷", "\r\n\r\n", "\t", "0000-00-00", "9999-12-31", "1900-02-29",
    "2025-02-30", "31/12/2025", "-1", "0", "-99999999999", "99999999999999999999999", "1e309", "NaN", "-0", "3.5",
    "true", "null", "[]", "{}", "SDIS-2025-00001", "ALFA-2025-00001", "BETA-2025-99999",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.integers().map(str),
)
# A field's value: a hostile string, several values where one is expected, or the field left out.
class _Missing:
    def __repr__(self):
        return "<left out>"


MISSING = _Missing()
field_value = st.one_of(hostile_text, st.lists(hostile_text, min_size=2, max_size=3), st.just(MISSING))

json_scalar = st.one_of(
    st.sampled_from(HOSTILE_TEXT), st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False), st.booleans(), st.none(),
)
json_value = st.recursive(json_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                          max_leaves=6)

ERROR_MARKERS = ('class="error"', "error-summary", "flash-error", "flash-warning", "<h1>Error", "<h1>Error ")


def _has_error_message(html: str) -> bool:
    return any(m in html for m in ERROR_MARKERS)


@pytest.fixture(scope="module")
def module_app(template_db, tmp_path_factory):
    yield from make_module_app(template_db, tmp_path_factory)


@pytest.fixture(scope="module")
def world(module_app):
    return build_world(module_app, Factory(module_app))


def _fill(path, world):
    return path.format(own=world.cases["own"], fresh=world.cases["fresh"], ref=world.referrals["pending"],
                       sent=world.referrals["own"], inactive=world.inactive_user,
                       target=world.target_user, target_entity=world.target_entity, product_id=world.product_id,
                       member=world.objects[("member", "own")])


def _discover(app, world):
    """endpoint -> (principal, action, payload, multi fields) for the first form found for each web POST route."""
    found = {}
    clients = {}
    for principal, page in PAGES:
        c = clients.get(principal) or logged_in_client(app, None if principal == "anon" else world.user(principal))
        clients[principal] = c
        path = _fill(page, world)
        r = c.get(path)
        assert r.status_code == 200, f"{principal} cannot open {page}: {r.status_code}"
        for form in post_forms(r.get_data(as_text=True)):
            form["action"] = form["action"] or path  # no action: the form posts to its own page
            endpoint, _values = endpoint_of(app, form["action"])
            if endpoint and endpoint not in found and endpoint not in NO_FORM:
                found[endpoint] = (principal, form["action"], form_payload(form))
    return found


def _web_post_endpoints(app):
    return sorted({e for e, rule, methods in app_routes(app) if "POST" in methods and not is_api(rule)})


@pytest.fixture
def fresh_world(app, factory):
    """A world of its own (the module's world is changed by the hostile requests that were accepted)."""
    return build_world(app, factory)


def test_every_web_form_is_fuzzed(app, fresh_world):
    """Fails loudly, naming each endpoint, when a web POST route has no form to fuzz and no reason in NO_FORM."""
    found = _discover(app, fresh_world)
    missing = [e for e in _web_post_endpoints(app) if e not in found and e not in NO_FORM]
    assert not missing, ("web POST routes with no form found on the pages in PAGES (add the page, or a reason to "
                         "NO_FORM):\n  " + "\n  ".join(missing))


def _refused_web(response, client) -> tuple[bool, bool]:
    """(refused, explained) for a web answer."""
    errors = [m for cat, m in flashes(client) if cat in ("error", "warning")]
    with client.session_transaction() as sess:
        sess.pop("_flashes", None)
    status = response.status_code
    html = response.get_data(as_text=True)
    if status >= 400:
        return True, _has_error_message(html) or bool(errors)
    if status in (301, 302, 303):
        if "/auth/login" in response.headers.get("Location", ""):
            return True, True
        return bool(errors), True
    return _has_error_message(html), True


def _fuzz_web_endpoint(app, world, endpoint, principal, action, payload):
    user = None if principal == "anon" else world.user(principal)
    client = logged_in_client(app, user)
    token = page_csrf(client)
    fields = [k for k in payload if not k.endswith("csrf_token")]
    baseline = {"snap": snapshot(app)}

    @SETTINGS
    @given(st.dictionaries(st.sampled_from(fields), field_value, min_size=1, max_size=max(1, len(fields)))
           if fields else st.just({}))
    def run(mutations):
        assume(not (PG_NUL_BUG and has_nul(mutations)))
        # each example is a form drawn afresh: a new one-time token (web.flow.SentOnce), or all but the first
        # would be refused as sent already
        data = {k: (token if k.endswith("csrf_token") else secrets.token_urlsafe(16) if k.endswith("submission")
                    else v) for k, v in payload.items()}
        for name, value in mutations.items():
            if value is MISSING:
                data.pop(name, None)
            else:
                data[name] = value
        before = baseline["snap"]
        response = client.post(action, data=data, follow_redirects=False)
        html = response.get_data(as_text=True)
        shown = {k: (v if v is MISSING or len(str(v)) < 80 else f"<{len(str(v))} chars>")
                 for k, v in mutations.items()}
        assert response.status_code < 500, f"{response.status_code} for {shown!r}"
        refused, explained = _refused_web(response, client)
        after = snapshot(app)
        if refused:
            changed = [c for c in diff_snapshots(before, after)
                       if c.split(" ", 1)[0] not in ALLOWED_WRITES.get(endpoint, ())]
            assert not changed, f"refused ({response.status_code}) but wrote {changed} for {shown!r}"
            assert explained, f"refused ({response.status_code}) without an error message for {shown!r}"
        baseline["snap"] = after
        assert "<script>alert(1)</script>" not in html, "hostile markup echoed unescaped"
        assert "onerror=alert(1)>" not in html, "hostile markup echoed unescaped"

    run()


def _collect(failures, endpoint, error):
    lines = traceback.format_exception_only(type(error), error)
    failures.append(f"{endpoint}: {''.join(lines).strip()[:1500]}")


def test_hostile_web_forms(module_app, world):
    found = _discover(module_app, world)
    failures = []
    for endpoint in sorted(found):
        principal, action, payload = found[endpoint]
        try:
            _fuzz_web_endpoint(module_app, world, endpoint, principal, action, payload)
        except Exception as error:  # noqa: BLE001 - collected: every endpoint is reported
            if endpoint not in KNOWN_BUGS:
                _collect(failures, endpoint, error)
    assert not failures, f"{len(failures)} of {len(found)} forms mishandled hostile input:\n\n" + "\n\n".join(failures)


# --- search and filter forms (GET) -----------------------------------------------------------------------------

# Pages with GET forms (filters, searches, periods) and who opens them.
GET_PAGES = [
    ("swlw", "/cases/"), ("swlw", "/route/monthly-list"), ("swlw", "/referrals/"), ("au", "/audit/"),
    ("au", "/audit/cases"), ("co", "/audit/cases"), ("co", "/indicators/"), ("co", "/indicators/counts"),
    ("co", "/indicators/products/3.5"), ("co", "/indicators/reports"),
]


# The publication is a cache of protected counts that a read may count again: in tests during the request
# (PUBLICATION_BUILD = "inline"), in production in a background build. Whether it is out of date when a fuzzed read
# first touches it depends on what earlier tests in the worker wrote, so it is no read's write here.
PUBLICATION_CACHE = ("publications ", "published_cells ")


def _query_fuzzer(app, client, action, names):
    @SETTINGS
    @given(st.dictionaries(st.sampled_from(names + ["cursor", "page", "format", "year"]), field_value,
                           min_size=1, max_size=4))
    def run(query):
        query = {k: v for k, v in query.items() if v is not MISSING}
        assume(not (PG_NUL_BUG and has_nul(query)))
        before = snapshot(app)
        response = client.get(action, query_string=query)
        shown = {k: (v if len(str(v)) < 80 else f"<{len(str(v))} chars>") for k, v in query.items()}
        assert response.status_code < 500, f"{response.status_code} for {shown!r}"
        response.get_data()
        response.close()  # a streamed download keeps its request context until closed
        written = [c for c in diff_snapshots(before, snapshot(app)) if not c.startswith(PUBLICATION_CACHE)]
        assert not written, f"a read wrote something for {shown!r}: {written}"

    return run


def test_hostile_query_strings(module_app, world):
    """Every GET form (filters, periods, searches): hostile values in the query string are never a 5xx, and a
    read writes nothing but the access log."""
    failures, fuzzed = [], set()
    for principal, page in GET_PAGES:
        client = logged_in_client(module_app, world.user(principal))
        html = client.get(page).get_data(as_text=True)
        for form in get_forms(html):
            action = form["action"] or page
            endpoint, _values = endpoint_of(module_app, action, "GET")
            names = [n for n in form["fields"] if n != "csrf_token"]
            if not endpoint or not names or (principal, endpoint) in fuzzed:
                continue
            fuzzed.add((principal, endpoint))
            run = _query_fuzzer(module_app, client, action, names)
            try:
                run()
            except Exception as error:  # noqa: BLE001 - collected: every form is reported
                if endpoint not in KNOWN_BUGS:
                    _collect(failures, f"GET {endpoint} as {principal}", error)
    assert len(fuzzed) >= 6, f"expected the GET forms of {GET_PAGES}, found {sorted(fuzzed)}"
    assert not failures, f"{len(failures)} GET forms mishandled hostile input:\n\n" + "\n\n".join(failures)


# --- API ------------------------------------------------------------------------------------------------------


def _api_operations(app, world):
    """(method, path template, url, schema of the body) for every POST/PATCH operation of the OpenAPI document."""
    from tests.test_permission_matrix import _args

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    rules = {}
    for endpoint, rule, methods in app_routes(app):
        if is_api(rule):
            for m in methods:
                rules[(m, rule.rule)] = (endpoint, rule)
    ops = []
    for path, item in doc["paths"].items():
        for method in ("post", "patch", "put"):
            if method not in item:
                continue
            flask_path = path.replace("{", "<").replace("}", ">")
            match = next(((e, r) for (m, rr), (e, r) in rules.items()
                          if m == method.upper() and _same(rr, flask_path)), None)
            assert match, f"{method.upper()} {path} is in the OpenAPI document but not a route"
            endpoint, rule = match
            variant = "psychosocial" if "section" in rule.arguments else None
            values, _scoped = _args(world, endpoint, rule, "own", None)
            if variant:
                values["section"] = variant
            url = rule.build(values, append_unknown=False)[1]
            body = item[method].get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            ops.append((endpoint, method.upper(), url, _resolve(doc, body)))
    return ops


def _same(rule, path):
    import re

    return re.sub(r"<[^>]+>", "<>", rule) == re.sub(r"<[^>]+>", "<>", path)


def _resolve(doc, schema):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return doc["components"]["schemas"][name]
    return schema


def _fuzz_api_endpoint(app, world, endpoint, method, url, schema):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world.tokens[('BETA', 'swlw')]}"}
    props = sorted((schema or {}).get("properties", {}))
    baseline = {"snap": snapshot(app)}
    objects = (st.fixed_dictionaries({}, optional={p: json_value for p in props}) if props
               else st.dictionaries(st.text(max_size=10), json_value, max_size=4))
    bodies = st.one_of(objects, json_value, st.just("not json {"))

    @SETTINGS
    @given(bodies)
    def run(body):
        assume(not (PG_NUL_BUG and has_nul(body)))
        before = baseline["snap"]
        if body == "not json {":
            response = client.open(url, method=method, data=body, headers=headers, content_type="application/json")
        else:
            response = client.open(url, method=method, data=json.dumps(body), headers=headers,
                                   content_type="application/json")
        assert response.status_code < 500, f"{response.status_code} for {body!r}"
        after = snapshot(app)
        if response.status_code >= 400:
            payload = response.get_json(silent=True) or {}
            assert payload.get("message"), f"{response.status_code} without a message: {response.get_data()[:200]!r}"
            changed = diff_snapshots(before, after)
            assert not changed, f"refused ({response.status_code}) but wrote {changed}"
        baseline["snap"] = after

    run()


def test_hostile_api_bodies(module_app, world):
    ops = _api_operations(module_app, world)
    assert ops, "no POST/PATCH operation in the OpenAPI document"
    failures = []
    for endpoint, method, url, schema in ops:
        try:
            _fuzz_api_endpoint(module_app, world, endpoint, method, url, schema)
        except Exception as error:  # noqa: BLE001 - collected: every endpoint is reported
            if f"{method} {endpoint}" not in KNOWN_BUGS:
                _collect(failures, f"{method} {endpoint}", error)
    assert not failures, f"{len(failures)} of {len(ops)} API operations mishandled hostile input:\n\n" + "\n\n".join(
        failures)


# --- bugs found here, one test each (fixed ones stay as regression tests) ----------------------------------------------------------------------------


def _known_bug(key):
    return pytest.mark.xfail(strict=True, reason=f"bug: {KNOWN_BUGS[key]}")


def _form_without_version(app, world, endpoint):
    principal, action, payload = _discover(app, world)[endpoint]
    client = logged_in_client(app, world.user(principal))
    token = page_csrf(client)
    data = {k: (token if k.endswith("csrf_token") else "abc" if k.endswith("version") else v)
            for k, v in payload.items()}
    return client, action, data


@pytest.mark.parametrize("endpoint", [
    pytest.param(e, marks=[_known_bug(e)] if e in KNOWN_BUGS else []) for e in ("route.update_step", "route.review_goal", "route.toggle_step_kind",
                                                  "route.close_case", "route.close_immediate", "route.leave",
                                                  "route.save_proceeding")])
def test_a_form_with_a_broken_version_is_refused_with_a_visible_message(app, fresh_world, endpoint):
    client, action, data = _form_without_version(app, fresh_world, endpoint)
    before = snapshot(app)
    response = client.post(action, data=data)
    assert response.status_code in (409, 422), response.status_code
    assert _has_error_message(response.get_data(as_text=True)) or flashes(client), "no error message shown"
    assert not diff_snapshots(before, snapshot(app))


def test_sending_a_referral_with_a_list_as_the_case_is_a_clear_422(app, fresh_world):
    response = app.test_client().post(
        "/api/v1/referrals", json={"case": [None, None], "to_entity": "ALFA", "service": "education", "reason": "x"},
        headers={"Authorization": f"Bearer {fresh_world.tokens[('BETA', 'swlw')]}"})
    assert response.status_code in (404, 422) and response.get_json()["message"], response.status_code


def test_a_cursor_beyond_64_bits_in_the_case_list_is_not_a_500(app, fresh_world):
    client = logged_in_client(app, fresh_world.user("swlw"))
    response = client.get("/cases/", query_string={"cursor": "9223372036854775808"})
    assert response.status_code in (200, 422), response.status_code


def test_a_cursor_beyond_64_bits_in_the_api_case_list_is_a_clear_422(app, fresh_world):
    response = app.test_client().get(
        "/api/v1/cases", query_string={"cursor": "9223372036854775808"},
        headers={"Authorization": f"Bearer {fresh_world.tokens[('BETA', 'swlw')]}"})
    assert response.status_code == 422 and response.get_json()["message"], response.status_code


# Representative requests carrying a NUL byte where the app looks something up in the database.
NUL_REQUESTS = [
    ("swlw", "GET", "/cases/A%00B", None), ("swlw", "GET", "/route/cases/A%00B", None),
    ("swlw", "POST", "/cases/search", {"code": "A\x00B"}), ("co", "GET", "/indicators/products/3%005", None),
    ("co", "GET", "/indicators/policies/X%00", None), ("ad", "GET", "/admin/users/a%00b", None),
    ("ad", "GET", "/admin/entities/a%00b", None),
    ("api", "GET", "/api/v1/cases/A%00B", None), ("api", "POST", "/api/v1/cases/search", {"code": "A\x00B"}),
    ("api", "POST", "/api/v1/referrals", {"case": "A\x00B", "to_entity": "ALFA", "service": "education",
                                          "reason": "x"}),
    ("api", "POST", "/api/v1/cases/{own}/steps", {"kind": "a\x00b"}),
    ("api", "POST", "/api/v1/cases/{own}/consents", {"kind": "sharing", "entity": "A\x00"}),
]


@pytest.mark.xfail(PG_NUL_BUG, strict=True, reason="bug: on PostgreSQL a NUL byte in a looked-up value is a 500 "
                   "(psycopg.DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes)")
def test_nul_bytes_never_cause_a_server_error(app, fresh_world):
    w = fresh_world
    problems = []
    clients = {}
    for who, method, path, body in NUL_REQUESTS:
        path = path.format(own=w.cases["own"])
        if who == "api":
            r = app.test_client().open(path, method=method, json=body,
                                       headers={"Authorization": f"Bearer {w.tokens[('BETA', 'swlw')]}"})
        else:
            client = clients.get(who) or logged_in_client(app, w.user(who))
            clients[who] = client
            data = {**body, "csrf_token": page_csrf(client)} if body else None
            r = client.open(path, method=method, data=data)
        if r.status_code >= 500:
            problems.append(f"{method} {path}: {r.status_code}")
    assert not problems, "NUL bytes caused server errors:\n  " + "\n  ".join(problems)


BIG = 2624864544262  # beyond 32 bits
BIG_ID_REQUESTS = [
    ("api", "GET", f"/api/v1/referrals/{BIG}", None), ("api", "POST", f"/api/v1/referrals/{BIG}/accept", {}),
    ("api", "POST", "/api/v1/cases/{own}/consents/" + str(BIG) + "/withdraw", {"version": 1}),
    ("swlw", "GET", f"/referrals/{BIG}", None), ("swlw", "POST", f"/route/steps/{BIG}", {}),
    ("swlw", "POST", f"/route/goals/{BIG}", {}), ("swlw", "POST", f"/route/stays/{BIG}/leave", {}),
    ("swlw", "POST", "/cases/{own}/consents/withdraw", {"consent_id": str(BIG), "version": "0"}),
    ("ad", "POST", f"/route/admin/step-kinds/{BIG}/toggle", {}), ("ad", "GET", f"/indicators/admin/products/{BIG}", None),
]


@pytest.mark.xfail(PG_INT_BUG, strict=True, reason="bug: on PostgreSQL an id beyond 32 bits is a 500 "
                   "(psycopg.errors.NumericValueOutOfRange: integer out of range)")
def test_ids_beyond_32_bits_are_not_found(app, fresh_world):
    w = fresh_world
    problems = []
    clients = {}
    for who, method, path, body in BIG_ID_REQUESTS:
        path = path.format(own=w.cases["own"])
        if who == "api":
            r = app.test_client().open(path, method=method, json=body,
                                       headers={"Authorization": f"Bearer {w.tokens[('BETA', 'swlw')]}"})
        else:
            client = clients.get(who) or logged_in_client(app, w.user(who))
            clients[who] = client
            data = {**body, "csrf_token": page_csrf(client)} if body is not None else None
            r = client.open(path, method=method, data=data)
        if r.status_code >= 500:
            problems.append(f"{method} {path}: {r.status_code}")
    assert not problems, "ids beyond 32 bits caused server errors:\n  " + "\n  ".join(problems)


def test_after_the_fuzzing_the_access_log_holds_codes_only(module_app, world):
    """Issue 12: every web form and API body above was fed hostile text; the append-only log (which erasure never
    reaches) kept none of it: each of its text fields is a code, OMITTED or a bounded value."""
    from sqlalchemy import select

    from caseapp import audit
    from caseapp.extensions import db
    from caseapp.models.audit import AuditEvent

    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
        elif isinstance(value, dict):
            for k, v in value.items():
                yield k
                yield from strings(v)

    bad = []
    with module_app.app_context():
        for row in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
            values = [row.actor, row.actor_entity, row.object_ref]
            values += list(strings(json.loads(row.detail))) if row.detail else []
            bad += [f"{row.seq} {row.action}: {v[:60]!r}" for v in values
                    if v is not None and v != audit.OMITTED and not audit.is_code(v)]
    assert not bad, "free text in the access log:\n  " + "\n  ".join(bad[:20])
