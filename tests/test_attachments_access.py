"""Who reads a case's attachments: every scan names her (the acta única and a court order carry her name and
cédula), so a receiving entity reads one only when its referral shares her identity AND the kind's own section;
the name a file was uploaded with never reaches anyone else; the stored `section` column decides nothing (it is
outside the ciphertext's associated data, the kind is not). Each rule on the web (case page, download) and the API
(list, download)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from caseapp.extensions import db
from caseapp.models.attachments import ATTACHMENT_KINDS
from tests.cases_factory import make_case
from tests.test_attachments import PDF, api_upload
from tests.world import _referral, new_api_token

UPLOADER = {"consent": "sw", "acta_unica": "sw", "identity_document": "sw", "court_order": "lw", "other": "sw"}
# What a receiving entity (social worker and lawyer) reads, by the sections its referral shares. Never a signed
# consent: it names the other entities she agreed to share with (tests/test_receiver_disclosure_paths.py).
READABLE = {
    "summary": set(),
    "summary,psychosocial,legal": set(),  # the reviewer's case: no identity, no scan at all
    "summary,identity": {"identity_document", "other"},
    "summary,identity,psychosocial": {"identity_document", "other", "acta_unica"},
    "summary,identity,legal": {"identity_document", "other", "court_order"},
    "summary,identity,psychosocial,legal": set(ATTACHMENT_KINDS) - {"consent"},
}


def _filename(kind: str) -> str:
    return f"{kind} Mariana Perez CC52123456.pdf"


@pytest.fixture
def world(app, client, factory):
    """A CTG case with one document of every kind, and a receiving entity (BOG) that may be referred it."""
    sw = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    lw = factory.user("abogada", roles=("lawyer",), entity="CTG")
    receiver = factory.user("receptora", roles=("social_worker", "lawyer"), entity="BOG")
    with app.test_request_context():
        code = make_case(sw.id)
        tokens = {u.username: new_api_token(u.id) for u in (sw, lw, receiver)}
    people = {"sw": sw, "lw": lw, "receiver": receiver, "tokens": tokens}
    ids = {}
    for kind in ATTACHMENT_KINDS:
        response = api_upload(client, people, UPLOADER[kind], code, data=PDF, kind=kind, filename=_filename(kind))
        assert response.status_code == 201, response.get_json()
        ids[kind] = response.get_json()["id"]
    return {"people": people, "code": code, "ids": ids, "receiver": receiver, "sw": sw, "lw": lw}


def _refer(app, world, sections):
    with app.test_request_context():
        _referral(world["code"], "CTG", "BOG", "accepted", world["sw"].id, sections=sections)


def _reader(app, login_as, world, who="receiver"):
    """(what she is listed, a download function) on the web (case page, download link) or the API."""
    user = world[who]
    token = world["people"]["tokens"][user.username]
    code = world["code"]
    api_client = app.test_client()
    web_client = app.test_client()
    login_as(user, web_client)
    h = {"Authorization": f"Bearer {token}"}

    def api_list():
        response = api_client.get(f"/api/v1/cases/{code}/attachments", headers=h)
        assert response.status_code == 200
        rows = response.get_json()["attachments"]
        return {r["id"] for r in rows}, str(rows)

    def web_list():
        response = web_client.get(f"/cases/{code}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        return {i for i in world["ids"].values() if f'href="/attachments/cases/{code}/{i}"' in page}, page

    return {
        "api": (api_list, lambda i: api_client.get(f"/api/v1/cases/{code}/attachments/{i}", headers=h)),
        "web": (web_list, lambda i: web_client.get(f"/attachments/cases/{code}/{i}")),
    }


@pytest.mark.parametrize("path", ["web", "api"])
@pytest.mark.parametrize("shared", sorted(READABLE))
def test_a_receiving_entity_reads_a_scan_only_with_her_identity_and_its_section(app, login_as, world, path,
                                                                                 shared):
    _refer(app, world, shared)
    listing, download = _reader(app, login_as, world)[path]
    listed, shown = listing()
    expected = READABLE[shared]
    assert listed == {world["ids"][k] for k in expected}
    for kind, attachment_id in world["ids"].items():
        got = download(attachment_id)
        assert got.status_code == (200 if kind in expected else 404), kind
        if kind in expected:
            assert got.data == PDF
        # the name it was uploaded with (hers, here) is shown only with the document itself
        assert (_filename(kind) in shown) == (kind in expected), kind
    if "identity" not in shared:  # nothing on the page or in the list names her
        assert "Mariana" not in shown and "52123456" not in shown


@pytest.mark.parametrize("path", ["web", "api"])
def test_the_stored_section_column_decides_nothing(app, client, login_as, world, path):
    # Reclassify every document in the database, behind the app's back: the column is outside the associated data.
    with app.app_context():
        db.session.execute(text("UPDATE case_attachments SET section = 'summary'"))
        db.session.commit()
    _refer(app, world, "summary,identity")  # her identity, not the psychosocial or legal sections
    listing, download = _reader(app, login_as, world)[path]
    listed, shown = listing()
    assert listed == {world["ids"][k] for k in READABLE["summary,identity"]}
    assert download(world["ids"]["acta_unica"]).status_code == 404
    assert download(world["ids"]["court_order"]).status_code == 404
    assert _filename("acta_unica") not in shown and _filename("court_order") not in shown
    # the owner's social worker still reads every one, and the API tells each kind's own section
    listing, download = _reader(app, login_as, world, who="sw")[path]
    listed, _shown = listing()
    assert listed == set(world["ids"].values())
    assert download(world["ids"]["acta_unica"]).status_code == 200
    if path == "api":
        sections = {a["kind"]: a["section"] for a in client.get(
            f"/api/v1/cases/{world['code']}/attachments",
            headers={"Authorization": f"Bearer {world['people']['tokens']['trabajadora']}"}).get_json()["attachments"]}
        assert sections == {"consent": "identity", "acta_unica": "psychosocial", "identity_document": "identity",
                            "court_order": "legal", "other": "identity"}


def test_a_lawyer_of_the_owner_reads_every_kind_but_the_psychosocial_acta_whatever_the_column(app, login_as, world):
    with app.app_context():
        db.session.execute(text("UPDATE case_attachments SET section = 'legal'"))
        db.session.commit()
    listing, download = _reader(app, login_as, world, who="lw")["api"]
    listed, _shown = listing()
    assert listed == {i for k, i in world["ids"].items() if k != "acta_unica"}
    assert download(world["ids"]["acta_unica"]).status_code == 404
