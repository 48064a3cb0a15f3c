"""Fixtures: app, client, runner, login helpers and factories.

Every test gets its own instance folder and a database migrated from empty to head by alembic (once per
session into a template, then copied): a SQLite file by default, or a fresh PostgreSQL database made from a
template when RUTA_TEST_DATABASE_URL points at a server.

The clock: the code reads time only through caseapp.timeutil, and tests move it with time-machine, never by
patching a module. RUTA_TEST_CLOCK=<ISO instant> runs every test with the clock starting there (CI runs the
PostgreSQL pass at a Sunday 03:00 in Bogotá); a test that needs a given hour asks for the `clock` fixture.
"""
from __future__ import annotations

import itertools
import os
import shutil
import threading
import time
import uuid
from datetime import datetime, timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

import config
from caseapp import create_app, i18n_catalog
from caseapp.extensions import db as _db
from caseapp.extensions import limiter
from caseapp.timeutil import BOGOTA

PG_URL = os.environ.get("RUTA_TEST_DATABASE_URL")
SUITE_CLOCK = os.environ.get("RUTA_TEST_CLOCK")
PASSWORD = "correct horse battery staple 42"  # noqa: S105 - test fixture password
_counter = itertools.count()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def _migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        _db.engine.dispose()


def _drop_database(conn, name: str) -> None:
    """Drop a test database; a backend the role may not end (e.g. a server process) gets a moment to leave."""
    for attempt in range(5):
        try:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except ProgrammingError:
            if attempt == 4:
                raise
            time.sleep(0.5)


def _pg_admin_engine():
    return create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


# --- the clock ------------------------------------------------------------------------------------------------


def _suite_start() -> datetime | None:
    if not SUITE_CLOCK:
        return None
    moment = datetime.fromisoformat(SUITE_CLOCK)
    return moment if moment.tzinfo else moment.replace(tzinfo=BOGOTA)


@pytest.fixture(autouse=True)
def _suite_clock(request):
    """With RUTA_TEST_CLOCK, every test starts at that instant (the clock keeps ticking from there)."""
    start = _suite_start()
    if start is None or request.node.get_closest_marker("real_clock"):
        yield
        return
    with time_machine.travel(start, tick=True):
        yield


@pytest.fixture(autouse=True)
def _dashboards_drawn_afresh():
    """Each test has a database of its own: a dashboard drawn in another test's must not be served in this one
    (in production one process serves one database)."""
    from caseapp.services.indicators import dashboard_cache

    dashboard_cache.clear()
    yield


@pytest.fixture(autouse=True)
def _background_builds_end():
    """A publication build a test's read started in the background ends with the test: it must not count into the
    next test's database, nor be cut at the interpreter's exit (HiGHS aborts the process then)."""
    yield
    from caseapp.services.indicators.publication import rebuild

    rebuild.wait()


class Clock:
    """The test's clock, in Colombian local time: `clock.set("2026-03-02 10:00")`, `clock.advance(minutes=5)`.

    It stands still once set (tick=False) so that a test reads exactly the instant it chose.
    """

    def __init__(self):
        self._travel = None
        self.now: datetime | None = None

    def set(self, local: str | datetime) -> datetime:
        moment = datetime.fromisoformat(local) if isinstance(local, str) else local
        moment = moment if moment.tzinfo else moment.replace(tzinfo=BOGOTA)
        self.stop()
        self._travel = time_machine.travel(moment, tick=False)
        self._travel.start()
        self.now = moment
        return moment

    def advance(self, **delta) -> datetime:
        return self.set(self.now + timedelta(**delta))

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()
            self._travel = None


@pytest.fixture
def clock():
    c = Clock()
    yield c
    c.stop()


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations():
    i18n_catalog.compile_all()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """A database migrated to head once per test session: a SQLite file, or a PostgreSQL template database."""
    instance = tmp_path_factory.mktemp("template-instance")
    os.environ["CASEAPP_INSTANCE_PATH"] = str(instance)
    if PG_URL:
        name = f"ruta_tpl_{_worker()}_{uuid.uuid4().hex[:6]}"
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        _migrate(create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=url)))
        yield {"kind": "postgresql", "name": name}
        with admin.connect() as conn:
            _drop_database(conn, name)
        admin.dispose()
    else:
        path = instance / "template.sqlite3"
        _migrate(create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")))
        yield {"kind": "sqlite", "path": path}


@pytest.fixture
def database_url(template_db, tmp_path):
    if template_db["kind"] == "sqlite":
        path = tmp_path / "ruta.sqlite3"
        shutil.copy(template_db["path"], path)
        yield f"sqlite:///{path}"
        return
    name = f"ruta_t_{_worker()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        # FILE_COPY (PostgreSQL 15+) copies the small template's files instead of WAL-logging every block: ~5x faster.
        strategy = " STRATEGY FILE_COPY" if conn.dialect.server_version_info >= (15,) else ""
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db["name"]}"{strategy}'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        _drop_database(conn, name)
    admin.dispose()


@pytest.fixture
def empty_database_url(tmp_path):
    """A second, EMPTY database (no tables): a new SQLite file, or a new PostgreSQL database. Not migrated."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"ruta_e_{_worker()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        _drop_database(conn, name)
    admin.dispose()


@pytest.fixture
def instance_path(tmp_path, monkeypatch):
    path = tmp_path / "instance"
    path.mkdir()
    monkeypatch.setenv("CASEAPP_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def app(instance_path, database_url):
    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=database_url))
    with app.app_context():
        limiter.reset()
    yield app
    from caseapp.audit import sealer

    sealer.idle(app)  # an access-log sealer the test's commits started ends before its database goes
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class StatementCounter:
    """What `count_queries()` yields: call it for the number of SQL statements sent so far inside the block;
    `.statements` holds their text, to print when a count is wrong."""

    def __init__(self):
        self.statements: list[str] = []

    def __call__(self) -> int:
        return len(self.statements)

    def __repr__(self) -> str:
        return f"{len(self.statements)} statements:\n" + "\n".join(s.replace("\n", " ")[:200] for s in self.statements)


@pytest.fixture
def count_queries(app):
    """Count the SQL statements the app sends, as Indico's fixture does: only those inside the block, so the test's
    own setup is left out, only on the app's engine, and only from the test's thread (the request runs there; a
    background publication build does not)::

        with count_queries() as count:
            client.get(url)
        assert count() <= 12, count
    """
    from contextlib import contextmanager

    from sqlalchemy import event

    with app.app_context():
        engine = _db.engine
    active: list[StatementCounter] = []

    thread = threading.get_ident()

    def listener(_conn, _cursor, statement, *_args):
        if active and threading.get_ident() == thread:
            active[0].statements.append(statement)

    @contextmanager
    def counting():
        if active:
            raise RuntimeError("count_queries blocks do not nest")
        counter = StatementCounter()
        active.append(counter)
        try:
            yield counter
        finally:
            active.clear()

    event.listen(engine, "before_cursor_execute", listener)
    yield counting
    event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def ctx(app):
    """An application context for calling services and models directly."""
    with app.test_request_context():
        yield app


# --- factories -------------------------------------------------------------------------------------------


class Factory:
    """Create entities and users the way the admin screens would."""

    def __init__(self, app):
        self.app = app

    def entity(self, code="SDIS", name=None, kind="government", territory="13001"):
        """An entity (made once). Tests play Cartagena unless they say otherwise: 13001 by default."""
        from caseapp.models.accounts import Entity

        with self.app.app_context():
            row = _db.session.query(Entity).filter_by(code=code).one_or_none()
            if row is None:
                row = Entity(code=code, name=name or f"Entidad {code}", kind=kind, territory=territory)
                _db.session.add(row)
                _db.session.commit()
            return row.id

    def user(self, username, roles=("social_worker",), entity="SDIS", password=PASSWORD, enrolled=True, active=True):
        from caseapp import crypto
        from caseapp.models.accounts import Entity, User

        self.entity(entity)
        with self.app.app_context():
            ent = _db.session.query(Entity).filter_by(code=entity).one()
            user = User(username=username, display_name=username.title(), entity=ent, active=active,
                        password_hash=crypto.hash_password(password))
            user.set_roles(roles)
            _db.session.add(user)
            _db.session.flush()
            secret = None
            if enrolled:
                secret = pyotp.random_base32()
                user.totp_secret = secret
                from caseapp.timeutil import utcnow

                user.totp_enrolled_at = utcnow()
            _db.session.commit()
            return TestUser(user.id, username, password, secret, entity, tuple(roles))


class TestUser:
    __test__ = False

    def __init__(self, id, username, password, totp_secret, entity, roles):
        self.id, self.username, self.password, self.totp_secret = id, username, password, totp_secret
        self.entity, self.roles = entity, roles

    def totp(self, offset: int = 0) -> str:
        totp = pyotp.TOTP(self.totp_secret)
        import time

        return totp.at(time.time(), counter_offset=offset)


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def login_as(app, client):
    """Open a server-side session for a user directly (the login flow itself is tested in test_auth)."""

    def _login(test_user, c=None):
        from caseapp.extensions import db
        from caseapp.models.accounts import User
        from caseapp.services.accounts import sessions

        c = c or client
        with app.test_request_context():
            user = db.session.get(User, test_user.id)
            token = sessions.start(user, "127.0.0.1")
            db.session.commit()
        with c.session_transaction() as s:
            s["_user_id"] = token
            s["_fresh"] = True
        return c

    return _login


def csrf_token(client, path="/"):
    """Fetch a page and pull the CSRF token out of its form."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)
