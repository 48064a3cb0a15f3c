"""Encrypted attachments: kinds by section, content sniffed (never the name), a size limit an admin sets, AES-256-GCM
under the victim's key bound to the row, shredded with her, downloads that are files and never cached, every upload
and download in the access log (without a file name). Each rule is checked on the web and on the API."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select, text

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.attachments import CaseAttachment
from caseapp.models.audit import AuditEvent
from caseapp.services import attachments
from caseapp.services.registry import erasure
from tests.cases_factory import make_case
from tests.world import _referral, new_api_token, page_csrf

SECRET = b"FIRMA-DE-MARIANA-PEREZ-52123456"  # a marker that must never appear in the database in clear
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n" + SECRET + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32 + SECRET
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32 + SECRET
FILENAME = "consentimiento Mariana Pérez.pdf"

HOSTILE = {
    "exe renamed .pdf": (b"MZ\x90\x00\x03" + b"\x00" * 60, "factura.pdf", "application/pdf"),
    "html renamed .pdf": (b"<!doctype html><script>alert(1)</script>", "acta.pdf", "application/pdf"),
    "svg with a script": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "firma.svg",
                          "image/svg+xml"),
    "html with a pdf header further down": (b"<html>\n%PDF-1.4 <script>alert(1)</script>", "x.pdf", "application/pdf"),
}


@pytest.fixture
def people(app, factory):
    sw = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    lw = factory.user("abogada", roles=("lawyer",), entity="CTG")
    other = factory.user("otra", roles=("social_worker", "lawyer"), entity="BOG")
    with app.test_request_context():
        code = make_case(sw.id)
        other_code = make_case(other.id, document_number="79111222", given_names="Otra")
        tokens = {u.username: new_api_token(u.id) for u in (sw, lw, other)}
    return {"sw": sw, "lw": lw, "other": other, "code": code, "other_code": other_code, "tokens": tokens}


def _bearer(people, who):
    return {"Authorization": f"Bearer {people['tokens'][people[who].username]}"}


def api_upload(client, people, who, code, data=PDF, kind="consent", filename=FILENAME, mimetype="application/pdf"):
    return client.post(f"/api/v1/cases/{code}/attachments", headers=_bearer(people, who),
                       data={"kind": kind, "file": (io.BytesIO(data), filename, mimetype)},
                       content_type="multipart/form-data")


def web_upload(app, login_as, people, who, code, data=PDF, kind="consent", filename=FILENAME,
               mimetype="application/pdf", token=None):
    c = app.test_client()
    login_as(people[who], c)
    if token is None:
        token = page_csrf(c, f"/cases/{code}")
    response = c.post(f"/attachments/cases/{code}", content_type="multipart/form-data",
                      data={"att-csrf_token": token, "att-kind": kind,
                            "att-file": (io.BytesIO(data), filename, mimetype)})
    return c, response


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CaseAttachment))


def _log(app, action):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- the happy paths ------------------------------------------------------------------------------------------


def test_api_upload_list_and_download_give_back_the_original_bytes(app, client, people):
    response = api_upload(client, people, "sw", people["code"])
    assert response.status_code == 201, response.get_json()
    attachment_id = response.get_json()["id"]
    listed = client.get(f"/api/v1/cases/{people['code']}/attachments", headers=_bearer(people, "sw")).get_json()
    assert listed["attachments"][0]["id"] == attachment_id
    assert listed["attachments"][0]["media_type"] == "application/pdf"
    assert listed["attachments"][0]["filename"] == FILENAME
    assert "content" not in json.dumps(listed)
    got = client.get(f"/api/v1/cases/{people['code']}/attachments/{attachment_id}", headers=_bearer(people, "sw"))
    assert got.status_code == 200
    assert got.data == PDF
    assert got.mimetype == "application/pdf"
    assert got.headers["Cache-Control"] == "no-store"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"] == f'attachment; filename="consent-{attachment_id}.pdf"'
    assert "Mariana" not in got.headers["Content-Disposition"]


def test_web_upload_shows_it_on_the_case_page_and_downloads_it(app, login_as, people):
    c, response = web_upload(app, login_as, people, "sw", people["code"], data=PNG, kind="identity_document",
                             filename="cedula.png", mimetype="image/png")
    assert response.status_code == 302
    page = c.get(f"/cases/{people['code']}").get_data(as_text=True)
    assert "cedula.png" in page and "Documento de identidad" in page
    with app.app_context():
        row = db.session.scalar(select(CaseAttachment))
    got = c.get(f"/attachments/cases/{people['code']}/{row.id}")
    assert got.data == PNG and got.mimetype == "image/png"
    assert got.headers["Content-Disposition"] == f'attachment; filename="identity_document-{row.id}.png"'
    assert got.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("uploads", [0, 1, 3])
@pytest.mark.parametrize("admin_mb", [None, 3])
def test_the_case_page_lists_what_the_api_lists_and_says_the_limit_in_force(app, client, factory, login_as, people,
                                                                            uploads, admin_mb):
    """The page reads its rows and the limit in one statement (store.case_block): with no attachment, one or several,
    and with the default limit or an administrator's, each reader sees the rows the API gives her and the limit an
    upload is held to."""
    kinds = ["identity_document", "court_order", "consent"]  # a social worker's, a lawyer's, both sections'
    for i in range(uploads):
        who = "lw" if kinds[i] == "court_order" else "sw"
        assert api_upload(client, people, who, people["code"], kind=kinds[i]).status_code == 201
    if admin_mb:
        admin = factory.user("admin_att", roles=("admin",), entity="CTG")
        with app.test_request_context():
            attachments.set_size_limit(db.session.get(User, admin.id), admin_mb, version=0)
    for who in ("sw", "lw"):
        listed = client.get(f"/api/v1/cases/{people['code']}/attachments", headers=_bearer(people, who))
        c = app.test_client()
        login_as(people[who], c)
        page = c.get(f"/cases/{people['code']}").get_data(as_text=True)
        shown = [int(i) for i in re.findall(rf'/attachments/cases/{people["code"]}/(\d+)"', page)]
        assert shown == [a["id"] for a in listed.get_json()["attachments"]], who
        assert f"de máximo {float(admin_mb or 8)} MB" in page, who


def test_the_stored_type_comes_from_the_content_not_the_name(app, client, people):
    response = api_upload(client, people, "sw", people["code"], data=JPEG, filename="escaneo.pdf",
                          mimetype="application/pdf")
    assert response.status_code == 201
    got = client.get(f"/api/v1/cases/{people['code']}/attachments/{response.get_json()['id']}",
                     headers=_bearer(people, "sw"))
    assert got.mimetype == "image/jpeg"
    assert got.headers["Content-Disposition"].endswith('.jpg"')


# --- content and size, on both paths ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["web", "api"])
@pytest.mark.parametrize("hostile", sorted(HOSTILE))
def test_anything_but_pdf_jpeg_png_is_refused_whatever_its_name(app, client, login_as, people, path, hostile):
    data, filename, mimetype = HOSTILE[hostile]
    if path == "api":
        response = api_upload(client, people, "sw", people["code"], data=data, filename=filename, mimetype=mimetype)
        assert response.status_code == 422
        assert response.get_json()["rule"] == "attachment_type"
        assert "PDF, JPEG o PNG" in response.get_json()["message"]
    else:
        c, response = web_upload(app, login_as, people, "sw", people["code"], data=data, filename=filename,
                                 mimetype=mimetype)
        assert "PDF, JPEG o PNG" in c.get(response.headers["Location"]).get_data(as_text=True)
    assert _count(app) == 0


@pytest.mark.parametrize("path", ["web", "api"])
def test_an_empty_file_is_refused(app, client, login_as, people, path):
    if path == "api":
        response = api_upload(client, people, "sw", people["code"], data=b"")
        assert response.status_code == 422 and response.get_json()["rule"] == "attachment_empty"
    else:
        c, response = web_upload(app, login_as, people, "sw", people["code"], data=b"")
        assert "está vacío" in c.get(response.headers["Location"]).get_data(as_text=True)
    assert _count(app) == 0


@pytest.mark.parametrize("path", ["web", "api"])
def test_a_file_over_the_admins_limit_is_refused(app, client, login_as, people, factory, path):
    admin = factory.user("admin", roles=("admin",), entity="CTG")
    with app.test_request_context():
        attachments.set_size_limit(db.session.get(User, admin.id), 1, version=0)
    big = PDF + b"0" * (1024 * 1024)
    if path == "api":
        response = api_upload(client, people, "sw", people["code"], data=big)
        assert response.status_code == 422 and response.get_json()["rule"] == "attachment_too_large"
        assert "1.0 MB" in response.get_json()["message"] or "1,0 MB" in response.get_json()["message"]
    else:
        c, response = web_upload(app, login_as, people, "sw", people["code"], data=big)
        assert "más de 1" in c.get(response.headers["Location"]).get_data(as_text=True)
    assert _count(app) == 0
    assert api_upload(client, people, "sw", people["code"]).status_code == 201  # a small one still goes in


def test_a_body_over_the_request_limit_is_413_and_nothing_is_kept(app, client, people):
    huge = PDF + b"0" * app.config["MAX_CONTENT_LENGTH"]
    response = api_upload(client, people, "sw", people["code"], data=huge)
    assert response.status_code == 413
    assert _count(app) == 0


def test_the_admin_limit_is_bounded_by_what_the_server_accepts(app, login_as, people, factory):
    admin = factory.user("admin", roles=("admin",), entity="CTG")
    c = app.test_client()
    login_as(admin, c)
    token = page_csrf(c, "/attachments/admin/limit")
    ceiling_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    response = c.post("/attachments/admin/limit", data={"csrf_token": token, "megabytes": str(ceiling_mb + 5),
                                                         "version": "0"})
    assert response.status_code == 422
    response = c.post("/attachments/admin/limit", data={"csrf_token": token, "megabytes": "2", "version": "0"})
    assert response.status_code == 302
    with app.test_request_context():
        assert attachments.size_limit() == (2 * 1024 * 1024, 1)
    assert _log(app, "admin.attachment_limit")
    sw = app.test_client()
    login_as(people["sw"], sw)
    assert sw.get("/attachments/admin/limit").status_code == 403


# --- who sees and adds what ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["web", "api"])
def test_another_entitys_case_and_attachment_are_404(app, client, login_as, people, path):
    own = api_upload(client, people, "sw", people["code"]).get_json()["id"]
    theirs = api_upload(client, people, "other", people["other_code"]).get_json()["id"]
    if path == "api":
        h = _bearer(people, "sw")
        base = "/api/v1/cases"
        assert client.get(f"{base}/{people['other_code']}/attachments", headers=h).status_code == 404
        assert client.get(f"{base}/{people['other_code']}/attachments/{theirs}", headers=h).status_code == 404
        # an id of another case under her own case's code
        assert client.get(f"{base}/{people['code']}/attachments/{theirs}", headers=h).status_code == 404
        assert client.get(f"{base}/{people['code']}/attachments/{own}", headers=h).status_code == 200
        assert api_upload(client, people, "sw", people["other_code"]).status_code == 404
    else:
        c = app.test_client()
        login_as(people["sw"], c)
        assert c.get(f"/attachments/cases/{people['other_code']}/{theirs}").status_code == 404
        assert c.get(f"/attachments/cases/{people['code']}/{theirs}").status_code == 404
        assert c.get(f"/attachments/cases/{people['code']}/{own}").status_code == 200
        _c, response = web_upload(app, login_as, people, "sw", people["other_code"])
        assert response.status_code == 404
    assert _count(app) == 2


def test_each_kind_is_seen_only_by_readers_of_its_section(app, client, people):
    acta = api_upload(client, people, "sw", people["code"], kind="acta_unica").get_json()["id"]
    order = api_upload(client, people, "lw", people["code"], kind="court_order").get_json()["id"]
    h = _bearer(people, "lw")
    listed = client.get(f"/api/v1/cases/{people['code']}/attachments", headers=h).get_json()["attachments"]
    assert [a["id"] for a in listed] == [order]  # the acta única is psychosocial: not a lawyer's
    assert client.get(f"/api/v1/cases/{people['code']}/attachments/{acta}", headers=h).status_code == 404
    # a social worker may not file a court order; a lawyer may not file the acta única
    assert api_upload(client, people, "sw", people["code"], kind="court_order").status_code == 403
    assert api_upload(client, people, "lw", people["code"], kind="acta_unica").status_code == 403
    assert api_upload(client, people, "sw", people["code"], kind="passport_scan").status_code == 422


@pytest.mark.parametrize("shared, sees", [("summary", False), ("summary,identity", True)])
def test_a_receiving_entity_sees_only_the_sections_shared_with_it(app, client, people, shared, sees):
    scan = api_upload(client, people, "sw", people["code"], kind="identity_document").get_json()["id"]
    with app.test_request_context():
        _referral(people["code"], "CTG", "BOG", "accepted", people["sw"].id, sections=shared)
    h = _bearer(people, "other")
    listed = client.get(f"/api/v1/cases/{people['code']}/attachments", headers=h).get_json()["attachments"]
    assert [a["id"] for a in listed] == ([scan] if sees else [])
    got = client.get(f"/api/v1/cases/{people['code']}/attachments/{scan}", headers=h)
    assert got.status_code == (200 if sees else 404)
    # it reads what is shared; it never adds to another entity's case
    assert api_upload(client, people, "other", people["code"]).status_code == 403
    assert _count(app) == 1


def test_a_forged_csrf_token_is_refused_and_nothing_kept(app, login_as, people):
    _c, response = web_upload(app, login_as, people, "sw", people["code"], token="forged")
    assert response.status_code == 400
    assert _count(app) == 0


# --- encryption, erasure, the access log ---------------------------------------------------------------------


def _raw_rows(app):
    with app.app_context():
        return db.session.execute(text("SELECT content_enc, filename_enc FROM case_attachments")).all()


def test_the_database_holds_neither_the_bytes_nor_the_name_in_clear(app, client, people):
    api_upload(client, people, "sw", people["code"])
    (content, name), = _raw_rows(app)
    assert SECRET not in bytes(content) and b"%PDF" not in bytes(content)
    assert b"Mariana" not in bytes(name) and "Mariana".encode("utf-16-le") not in bytes(content)


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(app, client, people):
    first = api_upload(client, people, "sw", people["code"]).get_json()["id"]
    second = api_upload(client, people, "sw", people["code"], data=PNG, kind="identity_document").get_json()["id"]
    with app.test_request_context():
        a, b = db.session.get(CaseAttachment, first), db.session.get(CaseAttachment, second)
        b.content_enc = a.content_enc
        db.session.commit()
        with pytest.raises(crypto.CryptoError):
            db.session.get(CaseAttachment, second).content()


@pytest.mark.parametrize("path", ["cli", "approved request"])
def test_a_shredded_victims_attachments_are_gone_and_cannot_be_decrypted(app, client, people, factory, path):
    attachment_id = api_upload(client, people, "sw", people["code"]).get_json()["id"]
    admin = factory.user("admin", roles=("admin",), entity="CTG")
    with app.test_request_context():
        row = db.session.get(CaseAttachment, attachment_id)
        kept = (bytes(row.content_enc), row._content_aad(), row.case.victim.data_key)
        key_row_id = kept[2].id
        if path == "cli":
            erasure.erase_case(people["code"])
        else:
            sw = db.session.get(User, people["sw"].id)
            request_id = erasure.request_erasure(sw, people["code"], "victim_request").id
            erasure.approve_erasure(db.session.get(User, admin.id), request_id)
    assert _count(app) == 0
    with app.test_request_context():
        from caseapp.models.keys import DataKey

        key = db.session.get(DataKey, key_row_id)
        with pytest.raises(crypto.KeyDestroyed):
            key.unwrap()  # the only way to the data key is gone: the copy of the ciphertext is noise
        with pytest.raises(crypto.CryptoError):
            crypto.decrypt_bytes(crypto.new_data_key(), kept[0], kept[1])
    h = _bearer(people, "sw")
    assert client.get(f"/api/v1/cases/{people['code']}/attachments/{attachment_id}", headers=h).status_code == 404
    response = api_upload(client, people, "sw", people["code"])
    assert response.status_code == 409 and response.get_json()["rule"] == "identity_erased"


def test_every_upload_and_download_is_logged_without_a_file_name(app, client, login_as, people):
    attachment_id = api_upload(client, people, "sw", people["code"]).get_json()["id"]
    client.get(f"/api/v1/cases/{people['code']}/attachments/{attachment_id}", headers=_bearer(people, "sw"))
    c = app.test_client()
    login_as(people["sw"], c)
    c.get(f"/attachments/cases/{people['code']}/{attachment_id}")
    uploads, downloads = _log(app, "case.attachment.upload"), _log(app, "case.attachment.download")
    assert len(uploads) == 1 and len(downloads) == 2
    for row in uploads + downloads:
        assert row.object_ref == people["code"] and row.actor == "trabajadora"
        assert json.loads(row.detail)["attachment"] == attachment_id
    with app.app_context():
        everything = " ".join(str(r.detail) for r in db.session.scalars(select(AuditEvent)))
    assert "consentimiento" not in everything and "Mariana" not in everything


def test_a_refused_download_is_logged_as_denied(app, client, people):
    theirs = api_upload(client, people, "other", people["other_code"]).get_json()["id"]
    client.get(f"/api/v1/cases/{people['code']}/attachments/{theirs}", headers=_bearer(people, "sw"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.outcome == "denied", AuditEvent.actor == "trabajadora")) >= 1


def test_the_list_never_loads_the_bytes(app, client, people, count_queries):
    for _ in range(3):
        api_upload(client, people, "sw", people["code"])
    with app.test_request_context():
        user = db.session.get(User, people["sw"].id)
        with count_queries() as count:
            _case, rows = attachments.list_attachments(user, people["code"])
        assert len(rows) == 3
        assert not any("content_enc" in s for s in count.statements), count


def test_sniff_recognises_only_the_three_formats():
    assert attachments.sniff(PDF) == "application/pdf"
    assert attachments.sniff(PNG) == "image/png"
    assert attachments.sniff(JPEG) == "image/jpeg"
    for data, _name, _type in HOSTILE.values():
        assert attachments.sniff(data) is None
    assert attachments.sniff(b"GIF89a") is None


def test_the_case_page_shows_attachments_without_their_bytes_at_the_cost_of_none(app, client, login_as, people,
                                                                                 count_queries):
    """Three attachments on the case page: their names decrypted, no statement reads their bytes, and the page costs
    the statements it costs with none (store.case_block reads them with the limit, as plain rows)."""
    c = app.test_client()
    login_as(people["sw"], c)
    url = f"/cases/{people['code']}"
    c.get(url)
    with count_queries() as none:
        assert c.get(url).status_code == 200
    names = ["cedula.png", "acta firmada.pdf", "consentimiento.pdf"]
    for kind, data, name in (("identity_document", PNG, names[0]), ("consent", PDF, names[1]),
                             ("consent", PDF, names[2])):
        assert api_upload(client, people, "sw", people["code"], data=data, kind=kind, filename=name,
                          mimetype="application/pdf").status_code == 201
    with count_queries() as three:
        page = c.get(url).get_data(as_text=True)
    assert all(name in page for name in names)
    assert len(three.statements) == len(none.statements), three
    assert not any("content_enc" in s for s in three.statements), three
