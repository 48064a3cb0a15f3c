"""Edges refused cleanly (issue 12): bodies too large or too deep, text longer than its limit, owner-only files.

Each of these was a finding: MAX_CONTENT_LENGTH set with `setdefault` (which Flask's own default None defeats), so
a body of any size was read and parsed; `maxlength` cut a pasted text in the browser without a word; the instance
folder kept the mode git gave it (755) and the SQLite file the umask's (644)."""
from __future__ import annotations

import json
import os
import re
import stat
from datetime import date

import pytest
from sqlalchemy import func, select

import config
from caseapp import create_app
from caseapp.extensions import db
from caseapp.models.cases import Case
from caseapp.models.route import AssistanceStep as Step
from tests.api.test_cases_api import token_for
from tests.cases_factory import make_case
from tests.conftest import csrf_token

TOO_LARGE = 10 * 1024 * 1024 + 1


@pytest.fixture
def sw(factory):
    return factory.user("trabajadora", roles=("social_worker",), entity="SDIS")


def _cases(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Case.id)))


def test_limit_is_set_for_real(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024


def test_oversized_api_body_is_413_in_spanish_and_nothing_saved(app, client, sw):
    headers = {**token_for(app, sw), "Content-Type": "application/json"}
    body = json.dumps({"given_names": "x" * TOO_LARGE})
    r = client.post("/api/v1/cases", data=body, headers=headers)
    assert r.status_code == 413
    assert r.is_json and "demasiado grande" in r.json["message"] and "10 MB" in r.json["message"]
    assert _cases(app) == 0


def test_oversized_form_is_413_in_spanish(app, client, sw, login_as):
    login_as(sw)
    token = csrf_token(client, "/cases/new")
    r = client.post("/cases/new", data={"csrf_token": token, "narrative": "x" * TOO_LARGE})
    assert r.status_code == 413
    assert "demasiado grande" in r.get_data(as_text=True)
    assert _cases(app) == 0


def _write_operations(app):
    """Every POST/PUT/PATCH path of the OpenAPI document, with its parameters filled."""
    from caseapp.api.openapi import document

    with app.test_request_context():
        doc = document()
    for path, item in doc["paths"].items():
        for method in ("post", "put", "patch"):
            if method in item:
                yield method, "/api/v1" + re.sub(r"\{[^}]+\}", lambda m: "1" if "id" in m.group(0) else "SDIS-2025-00001",
                                                 path.removeprefix("/api/v1"))


@pytest.mark.parametrize("body", [
    "[" * 50_000 + "]" * 50_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    '{"notes": ' + "[" * 50_000 + "]" * 50_000 + "}",
], ids=["arrays", "objects", "inside-a-field"])
def test_deeply_nested_json_is_4xx_on_every_write_endpoint(app, client, sw, body):
    with app.test_request_context():
        make_case(sw.id, identified_on=date(2025, 1, 10))
    headers = {**token_for(app, sw), "Content-Type": "application/json"}
    seen = 0
    for method, path in _write_operations(app):
        r = client.open(path, method=method.upper(), data=body, headers=headers)
        assert 400 <= r.status_code < 500, (method, path, r.status_code)
        assert r.is_json and r.json.get("message"), (method, path)
        seen += 1
    assert seen >= 30  # the document really listed the write endpoints


def _route_page(client, code):
    return client.get(f"/route/cases/{code}").get_data(as_text=True)


def test_long_text_is_counted_not_cut_and_refused_whole(app, client, sw, login_as):
    with app.test_request_context():
        code = make_case(sw.id, identified_on=date(2025, 3, 10))
    login_as(sw)
    html = _route_page(client, code)
    textarea = re.search(r'<textarea[^>]*id="step-notes"[^>]*>', html).group(0)
    assert "maxlength" not in textarea and 'data-limit="4000"' in textarea
    assert "Máximo 4.000 caracteres." in html and 'data-counter-for="step-notes"' in html
    assert "js/limits.js" in html
    token = csrf_token(client, f"/route/cases/{code}")
    text = "Relato largo " + "y" * 4000
    r = client.post(f"/route/cases/{code}/steps", data={
        "csrf_token": token, "step-csrf_token": token, "step-kind": "reception", "step-status": "done",
        "step-done_on": "2025-03-11", "step-notes": text})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "4000" in page or "4.000" in page  # the message names the limit
    assert text in page  # given back whole: nothing the user wrote is lost
    with app.app_context():
        assert db.session.scalar(select(func.count(Step.id))) == 0


def test_no_browser_truncation_on_any_page_field(app, client, sw, login_as):
    """No page renders a `maxlength` from a length validator (only the second factor's 8-digit code keeps one)."""
    with app.test_request_context():
        code = make_case(sw.id, identified_on=date(2025, 3, 10))
    login_as(sw)
    for path in ("/cases/new", f"/cases/{code}", f"/route/cases/{code}", "/referrals/"):
        html = client.get(path).get_data(as_text=True)
        assert "maxlength" not in html, path


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_instance_folder_and_files_are_owner_only_even_when_they_existed(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    (instance / "backups").mkdir(parents=True)
    instance.chmod(0o755)
    (instance / "backups").chmod(0o755)
    (instance / "README.md").write_text("x")
    (instance / "README.md").chmod(0o644)
    (instance / "backups" / "old.tar").write_text("x")
    (instance / "backups" / "old.tar").chmod(0o644)
    existing = instance / "ruta.sqlite3"
    existing.write_bytes(b"")
    existing.chmod(0o644)
    monkeypatch.setenv("CASEAPP_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    create_app(config.load("testing"))
    assert _mode(instance) == 0o700 and _mode(instance / "backups") == 0o700
    for f in ("README.md", "backups/old.tar", "ruta.sqlite3", "secret_key"):
        assert _mode(instance / f) == 0o600, f


def test_a_new_sqlite_file_is_created_owner_only(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("CASEAPP_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    old = os.umask(0o022)
    try:
        app = create_app(config.load("testing"))
        with app.app_context():
            db.session.execute(select(1))
            db.session.remove()
            db.engine.dispose()
    finally:
        os.umask(old)
    assert _mode(instance / "ruta.sqlite3") == 0o600
