"""`current_user` through security.request_user (installed as Flask-Login's `_get_user`): the same user as before,
loaded once per request, none outside a request, and what the API set on `g` as it set it."""
from __future__ import annotations

import flask_login.utils
from flask import g
from flask_login import current_user

from caseapp import security


def test_it_is_flask_login_s_lookup(app):
    assert flask_login.utils._get_user is security.request_user
    assert security.request_user() is None  # no request: none, as Flask-Login said


def test_a_request_loads_her_once_and_keeps_her(app, monkeypatch):
    loads = []
    original = app.login_manager._load_user

    def counting():
        loads.append(1)
        return original()

    monkeypatch.setattr(app.login_manager, "_load_user", counting)
    with app.test_request_context("/"):
        assert not current_user.is_authenticated  # nobody signed in: the anonymous user
        assert current_user._get_current_object() is g._login_user
        for _ in range(5):
            assert not current_user.is_authenticated
    assert loads == [1]
    with app.test_request_context("/"):
        g._login_user = None  # an API request without a valid token (caseapp.api)
        assert current_user._get_current_object() is None
    assert loads == [1]


def test_outside_a_request_there_is_no_user_and_nothing_is_loaded(app, monkeypatch):
    """An app context without a request (a command, the publication build, an e-mail job): no user, and no attempt
    to load one from a session that is not there."""
    monkeypatch.setattr(app.login_manager, "_load_user", lambda: (_ for _ in ()).throw(AssertionError("loaded")))
    with app.app_context():
        assert security.request_user() is None
        assert current_user._get_current_object() is None


def test_an_api_request_s_user_is_the_one_its_token_gave(app, monkeypatch):
    monkeypatch.setattr(app.login_manager, "_load_user", lambda: (_ for _ in ()).throw(AssertionError("loaded")))
    her = object()
    with app.test_request_context("/api/v1/cases"):
        g._login_user = her  # as caseapp.api sets it for a valid token
        assert current_user._get_current_object() is her


def test_each_thread_s_request_sees_its_own_user(app):
    """gthread workers serve requests side by side: a request's user is never another's."""
    import threading

    barrier = threading.Barrier(2, timeout=10)
    seen, errors = {}, []

    def serve(name):
        try:
            with app.test_request_context("/"):
                g._login_user = name
                barrier.wait()  # both requests are open at once
                seen[name] = [current_user._get_current_object() for _ in range(50)]
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=serve, args=(n,)) for n in ("ana", "beto")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and seen == {"ana": ["ana"] * 50, "beto": ["beto"] * 50}


def test_a_signed_in_user_and_her_language_stay_in_her_requests(app, client, factory, login_as):
    """Her requests and an anonymous visitor's, interleaved: each sees who she is and her language, never the
    other's (the user and the translations are kept per request)."""
    from caseapp.extensions import db
    from caseapp.models.accounts import User

    ana = factory.user("ana_lang")
    with app.app_context():
        db.session.get(User, ana.id).locale = "en"
        db.session.commit()
    her = login_as(ana, app.test_client())
    visitor = app.test_client()
    for _ in range(2):
        page = her.get("/")
        assert page.status_code == 200 and "Ana_Lang" in page.get_data(as_text=True)
        assert 'lang="en"' in page.get_data(as_text=True)
        login = visitor.get("/auth/login")
        assert login.status_code == 200 and 'lang="es' in login.get_data(as_text=True)
        assert "Ana_Lang" not in login.get_data(as_text=True)
        assert visitor.get("/").status_code in (302, 401)
