"""A small world for the hostile-input and authorisation tests.

Three entities — ALFA (a city office), BETA (an NGO) and ICBF (child protection) — users of every role in ALFA and
BETA, and four cases seen from BETA's side:

- ``own``: BETA's own case (BETA-...);
- ``other``: an ALFA case BETA has nothing to do with;
- ``referred``: an ALFA case referred to BETA, referral ACCEPTED, sharing only "summary";
- ``pending``: an ALFA case referred to BETA, referral still SENT (not accepted).

Every case has a step, a life-plan goal, a shelter stay, notes, a legal event and a consent, so routes that take
an object id instead of a case code can be asked about each scenario too. Also: helpers to discover the routes of
the app (``app.url_map``), to build clients and API tokens, and to take a snapshot of the database that tells a
refused request which wrote something (anything but the access log and session bookkeeping) from one that did not.
"""
from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import inspect, select, text

PRINCIPALS = ("anon", "sw", "lw", "co", "au", "ad", "swlw")
ROLES_OF = {
    "sw": ("social_worker",), "lw": ("lawyer",), "co": ("coordinator",), "au": ("auditor",), "ad": ("admin",),
    "swlw": ("social_worker", "lawyer"),
}
SCENARIOS = ("own", "other", "referred", "pending")

# Formerly known bugs on PostgreSQL, fixed (a NUL byte or an id beyond 32 bits reaching a query is now a 4xx):
# kept as switches so that a regression can be held by a strict xfail again while it is fixed.
# Statements an access-log commit adds on PostgreSQL over SQLite's (which reads the chain's head and inserts the
# row): the row's id block (one in 32) and the look at the queue after the commit (the try of the chain lock and the
# read of its head are one statement, migration 0027's function; a request that loses the lock inserts its row in
# the queue instead of the chain). Constant per request, so the statement-count ceilings allow it there.
AUDIT_APPEND_STATEMENTS = 2 if os.environ.get("RUTA_TEST_DATABASE_URL") else 0
PG_NUL_BUG = False
PG_INT_BUG = False
INT4_MAX = 2**31 - 1


def _pg_trouble(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) > INT4_MAX
    if isinstance(value, str):
        digits = value.strip().lstrip("+-")
        return "\x00" in value or "%00" in value or (digits.isdigit() and len(digits) < 400 and int(digits) > INT4_MAX)
    return False


def has_nul(value) -> bool:
    """True when a value holds something PostgreSQL currently turns into a 500 (a NUL byte, an id beyond 32 bits)."""
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(v) for v in value)
    return _pg_trouble(value)


# Tables a refused request may still write: the access log and session/token/sign-in bookkeeping (a refused
# sign-in or password check counts towards the throttle's delays).
VOLATILE_TABLES = {"audit_events", "audit_queue", "audit_anchors", "user_sessions", "api_tokens", "alembic_version",
                   "login_throttles", "pending_logins"}


@dataclass
class World:
    app: object
    users: dict = field(default_factory=dict)  # (entity, principal) -> TestUser
    tokens: dict = field(default_factory=dict)  # (entity, principal) -> bearer token
    cases: dict = field(default_factory=dict)  # scenario -> case code
    identity: dict = field(default_factory=dict)  # scenario -> (given names, document number): must never leak
    objects: dict = field(default_factory=dict)  # (kind, scenario) -> id
    referrals: dict = field(default_factory=dict)  # scenario -> referral id (from BETA's point of view)
    target_user: str = "zz_target"
    target_user_id: int = 0
    inactive_user: str = "zz_inactive"
    target_entity: str = "ZETA"
    product_code: str = "3.5"
    policy_code: str = "CTG-PPIG"
    step_kind_id: int = 0
    product_id: int = 0
    erasure_request_id: int = 0

    def user(self, principal, entity="BETA"):
        return self.users[(entity, principal)]


# --- app at module scope (several tests share one world) -------------------------------------------------


def make_module_app(template_db, tmp_path_factory):
    """An app with its own migrated database and instance folder, shared by the tests of one module.

    A generator for a module-scoped fixture: ``yield from make_module_app(template_db, tmp_path_factory)``."""
    import config
    from caseapp import create_app
    from caseapp.extensions import db, limiter

    base = tmp_path_factory.mktemp("world")
    instance = base / "instance"
    instance.mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("CASEAPP_INSTANCE_PATH", str(instance))
    cleanup = None
    if template_db["kind"] == "sqlite":
        path = base / "ruta.sqlite3"
        shutil.copy(template_db["path"], path)
        url = f"sqlite:///{path}"
    else:
        from sqlalchemy.engine import make_url

        from tests.conftest import PG_URL, _pg_admin_engine

        name = f"ruta_w_{uuid.uuid4().hex[:10]}"
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db["name"]}"'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

        def cleanup():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False))
    with app.app_context():
        limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if cleanup:
        cleanup()
    mp.undo()


# --- building the world ----------------------------------------------------------------------------------


def _u(user_id):
    from caseapp.extensions import db
    from caseapp.models.accounts import User

    return db.session.get(User, user_id)


def _referral(case_code, from_code, to_code, status, sent_by_id, sections="summary", service="psychological_assessment"):
    from caseapp.extensions import db
    from caseapp.models.accounts import Entity
    from caseapp.models.cases import Case, Consent
    from caseapp.models.referrals import Referral
    from caseapp.timeutil import utcnow

    ent = {e.code: e for e in db.session.scalars(select(Entity))}
    case = db.session.scalar(select(Case).where(Case.code == case_code))
    if case.active_consent("sharing", ent[to_code].id) is None:  # a referral rests on her consent to share
        case.consents.append(Consent(kind="sharing", entity_id=ent[to_code].id, given_on=date(2025, 3, 10),
                                     method="written", taken_by_id=sent_by_id, recorded_at=utcnow()))
    row = Referral(case=case, from_entity_id=ent[from_code].id, to_entity_id=ent[to_code].id, service=service,
                   shared_sections=sections, status=status, sent_by_id=sent_by_id, sent_at=utcnow(),
                   due_on=date(2025, 4, 1), responded_on=date(2025, 3, 12) if status == "accepted" else None)
    row.reason = "Apoyo psicosocial"
    db.session.add(row)
    db.session.commit()
    return row.id


def new_api_token(user_id) -> str:
    """A bearer token for a user, made the way `flask users token` does. Needs an app context."""
    from caseapp import crypto
    from caseapp.extensions import db
    from caseapp.models.accounts import ApiToken
    from caseapp.timeutil import utcnow

    token = crypto.new_token()
    db.session.add(ApiToken(user_id=user_id, token_hash=crypto.hash_token(token), created_at=utcnow()))
    db.session.commit()
    return token


def build_world(app, factory) -> World:
    from caseapp.extensions import db
    from caseapp.models.route import StepKind
    from caseapp.services import casework as legal
    from caseapp.services import casework as shelters
    from caseapp.services import casework as steps
    from caseapp.services import family, safety
    from caseapp.services.registry import erasure
    from tests.cases_factory import make_case

    w = World(app=app)
    factory.entity("ALFA", kind="government")
    factory.entity("BETA", kind="ngo")
    factory.entity("ICBF", name="Instituto Colombiano de Bienestar Familiar", kind="child_protection")
    factory.entity(w.target_entity, kind="ngo")
    for ent in ("ALFA", "BETA"):
        for principal, roles in ROLES_OF.items():
            w.users[(ent, principal)] = factory.user(f"{principal}_{ent.lower()}", roles=roles, entity=ent)
    w.users[("ICBF", "sw")] = factory.user("sw_icbf", roles=("social_worker",), entity="ICBF")
    w.target_user_id = factory.user(w.target_user, roles=("social_worker",), entity=w.target_entity).id
    factory.user(w.inactive_user, roles=("social_worker",), entity=w.target_entity, active=False)

    with app.test_request_context():
        admin = _u(w.user("ad", "ALFA").id)
        shelter = shelters.save_shelter(admin, code="CASA-W", name="Casa Violeta", city="Cartagena",
                                        operator_entity="ALFA", capacity=20)
        owners = {"own": w.user("swlw", "BETA"), "other": w.user("swlw", "ALFA"),
                  "referred": w.user("swlw", "ALFA"), "pending": w.user("swlw", "ALFA")}
        for i, (scenario, owner) in enumerate(owners.items()):
            code = make_case(owner.id, document_number=str(52100000 + i), given_names=f"Persona{i}",
                             identified_on=date(2025, 3, 10))
            w.cases[scenario] = code
            w.identity[scenario] = (f"Persona{i}", str(52100000 + i))
            actor = _u(owner.id)
            step = steps.add_step(actor, code, kind="psychological_assessment", status="done", done_on="2025-03-11",
                                  notes="Primera atención")
            goal = steps.add_goal(actor, code, area="education", description="Terminar el bachillerato",
                                  agreed_on="2025-03-11")
            stay = shelters.place(actor, code, shelter_id=shelter.id, admitted_on="2025-03-11")
            note = steps.add_note(actor, code, "psychosocial", body="Nota psicosocial", written_on="2025-03-11")
            proc = legal.save_proceeding(actor, code, version=0, complaint_filed_on="2025-03-11", stage="inquiry")
            w.objects[("proceeding", scenario)] = proc.id
            w.objects[("event", scenario)] = legal.add_event(actor, code, kind="hearing", on="2025-03-11",
                                                             title="Audiencia", outcome="Aplazada").id
            w.objects[("step", scenario)] = step.id
            w.objects[("goal", scenario)] = goal.id
            w.objects[("stay", scenario)] = stay.id
            w.objects[("note", scenario)] = note.id
            w.objects[("measure", scenario)] = legal.add_measure(actor, code, kind="police_measures",
                                                                 requested_on="2025-03-11").id
            from caseapp.models.cases import Case

            case = db.session.scalar(select(Case).where(Case.code == code))
            w.objects[("consent", scenario)] = case.consents[0].id
            from caseapp.services import attachments  # a signed consent scan (identity section) on every case

            w.objects[("attachment", scenario)] = attachments.upload(
                actor, code, kind="consent", data=b"%PDF-1.7\n%%EOF\n", filename="consentimiento.pdf").id
            w.objects[("member", scenario)] = family.add_member(actor, code, {"names": "Familiar",
                                                                              "relationship": "mother"}).id
            w.objects[("flag", scenario)] = safety.set_flag(actor, code, kind="high_risk", reason="Riesgo").id
        sw_a, sw_b = w.user("swlw", "ALFA").id, w.user("swlw", "BETA").id
        w.referrals["referred"] = _referral(w.cases["referred"], "ALFA", "BETA", "accepted", sw_a)
        w.referrals["pending"] = _referral(w.cases["pending"], "ALFA", "BETA", "sent", sw_a)
        w.referrals["other"] = _referral(w.cases["other"], "ALFA", "ICBF", "sent", sw_a)
        w.referrals["own"] = _referral(w.cases["own"], "BETA", "ALFA", "sent", sw_b)
        # An erasure request waiting for an administrator (on a fifth ALFA case, so no scenario loses its identity).
        spare = make_case(w.user("sw", "ALFA").id, document_number="52199999", given_names="Persona9",
                          identified_on=date(2025, 3, 10))
        w.cases["spare"] = spare
        w.identity["spare"] = ("Persona9", "52199999")
        w.erasure_request_id = erasure.request_erasure(_u(w.user("sw", "ALFA").id), spare, "victim_request").id
        # A BETA case with nothing on its route yet (the shelter placement form is offered on it).
        w.cases["fresh"] = make_case(w.user("swlw", "BETA").id, document_number="52188888", given_names="Persona8",
                                     identified_on=date(2025, 3, 10))
        w.identity["fresh"] = ("Persona8", "52188888")
        w.step_kind_id = db.session.scalar(select(StepKind.id).order_by(StepKind.id))
        from caseapp.models.indicators import Product

        w.product_id = db.session.scalar(select(Product.id).where(Product.code == w.product_code))
        for (ent, principal), u in w.users.items():
            w.tokens[(ent, principal)] = new_api_token(u.id)
        w.tokens["target"] = new_api_token(w.target_user_id)
        db.session.commit()
    return w


# --- clients -----------------------------------------------------------------------------------------------


def logged_in_client(app, test_user):
    """A test client holding a server session for the user (as conftest's login_as does)."""
    from caseapp.extensions import db
    from caseapp.models.accounts import User
    from caseapp.services.accounts import sessions

    c = app.test_client()
    if test_user is None:
        return c
    with app.test_request_context():
        user = db.session.get(User, test_user.id)
        token = sessions.start(user, "127.0.0.1")
        db.session.commit()
    with c.session_transaction() as s:
        s["_user_id"] = token
        s["_fresh"] = True
    return c


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def page_csrf(client, path="/auth/account") -> str:
    """A CSRF token from a page of this client's session (the login page for anonymous clients)."""
    for candidate in (path, "/auth/login"):
        r = client.get(candidate)
        m = CSRF_RE.search(r.get_data(as_text=True))
        if m:
            return m.group(1) or m.group(2)
    raise AssertionError("no CSRF token found on any page")


# --- routes ---------------------------------------------------------------------------------------------------


def app_routes(app):
    """(endpoint, rule, methods) for every route of the app except static files."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        out.append((rule.endpoint, rule, methods))
    return sorted(out, key=lambda t: (t[1].rule, t[0]))


def is_api(rule) -> bool:
    return rule.rule.startswith("/api/")


# --- database snapshot -------------------------------------------------------------------------------------


def snapshot(app) -> dict:
    """Every row of every table but the access log and session bookkeeping: a refused request must not change it."""
    from caseapp.extensions import db

    with app.app_context():
        engine = db.engine
        names = sorted(set(inspect(engine).get_table_names()) - VOLATILE_TABLES)
        out = {}
        with engine.connect() as conn:
            for name in names:
                rows = conn.execute(text(f'SELECT * FROM "{name}"')).fetchall()  # noqa: S608 - table names from the schema
                out[name] = sorted(tuple(str(v) for v in row) for row in rows)
        return out


def diff_snapshots(before: dict, after: dict) -> list[str]:
    """Names of the tables whose rows changed, with a count of the changed rows."""
    changed = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name, []), after.get(name, [])
        if a != b:
            changed.append(f"{name} ({len(a)}→{len(b)} rows, {len(set(a) ^ set(b))} differing)")
    return changed


# --- HTML forms -------------------------------------------------------------------------------------------


class FormParser(HTMLParser):
    """Collect every <form method=post>: its action and its fields with their default values and choices."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                          "fields": {}, "choices": {}, "types": {}, "multi": set(),
                          "required": set(), "selected": set()}
            return
        if self._form is None:
            return
        name = a.get("name")
        if name and "required" in a:
            self._form["required"].add(name)
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind == "file":  # no value to send as it is; a test that fills the form may attach a file
                self._form["types"][name] = kind
                return
            if kind in ("submit", "button", "image", "reset"):
                return
            self._form["types"][name] = kind
            if kind in ("checkbox", "radio"):
                self._form["choices"].setdefault(name, []).append(a.get("value", "y"))
                if kind == "checkbox":
                    self._form["multi"].add(name)
                if "checked" in a:
                    self._form["fields"].setdefault(name, [])
                    self._form["fields"][name].append(a.get("value", "y"))
                return
            self._form["fields"][name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self._form["types"][name] = "select"
            self._form["choices"][name] = []
            if "multiple" in a:
                self._form["multi"].add(name)
            self._form["fields"].setdefault(name, "")
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._form["choices"][self._select].append(value)
            if "selected" in a:
                self._form["fields"][self._select] = value
                self._form["selected"].add(self._select)
        elif tag == "textarea" and name:
            self._textarea = name
            self._form["types"][name] = "textarea"
            self._form["fields"][name] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def get_forms(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return [f for f in parser.forms if f["method"] == "get"]


def post_forms(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return [f for f in parser.forms if f["method"] == "post"]


def form_payload(form: dict) -> dict:
    """The form as a browser would send it untouched (a blank option the page selects stays blank; where nothing is
    selected, the first real choice, so that a replayed form is a valid one)."""
    data = {}
    for name, value in form["fields"].items():
        if isinstance(value, list):
            data[name] = value
        elif form["types"].get(name) == "select" and not value and form["choices"].get(name) \
                and name not in form.get("selected", ()):
            data[name] = next((c for c in form["choices"][name] if c), "")
        else:
            data[name] = value
    return data


def endpoint_of(app, path: str, method: str = "POST"):
    """(endpoint, view args) of a path, or (None, {})."""
    from urllib.parse import urlsplit

    adapter = app.url_map.bind("localhost")
    try:
        return adapter.match(urlsplit(path).path, method=method)
    except Exception:  # noqa: BLE001 - not a route of the app
        return None, {}


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as s:
        return list(s.get("_flashes", []))
