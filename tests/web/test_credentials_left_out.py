"""A user's credentials (her password hash, her TOTP secret) leave the database only where they are checked or
changed: the session's load of the signed-in user on every request, a case page naming the professional of a flag
"contact only through", the lists and the API read users without them. The login still checks them."""
from __future__ import annotations

import re
from datetime import date

import pytest

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.services import safety
from tests.cases_factory import make_case
from tests.web.test_auth import code_step, password_step, wrong_code
from tests.world import new_api_token

CREDENTIALS = re.compile(r"password_hash|totp_secret", re.I)


@pytest.fixture
def flagged(app, factory):
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    luz = factory.user("luz", roles=("lawyer",), entity="SDIS")
    with app.test_request_context():
        actor = db.session.get(User, ana.id)
        code = make_case(ana.id, identified_on=date(2025, 3, 10))
        safety.set_flag(actor, code, kind="contact_only_through", reason="Solo por su abogada", professional="luz")
        token = new_api_token(luz.id)
    return {"code": code, "ana": ana, "luz": luz, "token": token}


def _read(client, count_queries, url, headers=None):
    with count_queries() as count:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response, count.statements


@pytest.mark.parametrize("who", ["ana", "luz"])
@pytest.mark.parametrize("page", ["/cases/{code}", "/cases/", "/cases/{code}/safety", "/route/cases/{code}"])
def test_no_page_reads_a_credential(client, login_as, flagged, count_queries, who, page):
    login_as(flagged[who])
    response, statements = _read(client, count_queries, page.format(code=flagged["code"]))
    assert statements, "the page issued no statement: nothing was checked"
    assert not [s for s in statements if CREDENTIALS.search(s)], page
    if page.endswith("/safety") or page == "/cases/{code}":
        # the flag names the professional, read without her credentials
        assert "Luz" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/api/v1/cases/{code}", "/api/v1/cases/{code}/safety-flags", "/api/v1/cases"])
def test_no_api_read_loads_a_credential(client, flagged, count_queries, url):
    response, statements = _read(client, count_queries, url.format(code=flagged["code"]),
                                 {"Authorization": f"Bearer {flagged['token']}"})
    assert not [s for s in statements if CREDENTIALS.search(s)], url
    if url.endswith("safety-flags"):
        assert [f["professional"] for f in response.json["items"] if f["kind"] == "contact_only_through"] == ["luz"]


def test_the_login_reads_them_where_it_checks_them(client, factory, count_queries):
    """Left out of every other load, both are still read where they are checked: a wrong password or code is
    refused and the right ones let her in (test_auth has the whole flow). The password is read by the statement
    that finds her account, the TOTP secret only at the second step."""
    user = factory.user("marta", roles=("social_worker",), entity="SDIS")
    assert password_step(client, "marta", "no-es-su-clave-123").status_code == 200
    with count_queries() as count:
        right = password_step(client, "marta", user.password)
    assert right.status_code == 302 and right.headers["Location"].endswith("/auth/verify")
    # one statement reads the hash, the one that finds the account by name: no statement of its own for it
    (reads,) = [s for s in count.statements if "users.password_hash" in s]
    assert "users.username" in reads and "users.totp_secret_enc" not in reads
    assert code_step(client, wrong_code(user)).status_code != 302
    done = code_step(client, user.totp())
    assert done.status_code == 302 and "/auth/" not in done.headers["Location"]
