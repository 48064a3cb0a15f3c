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
