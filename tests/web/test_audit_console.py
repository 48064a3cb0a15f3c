"""The auditor's console in the browser's shoes: filters, keyset pages, CSV export, per-case history, alerts,
thresholds; 403 (logged) for everyone else; never a victim's identity; every filter walks an index."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select, text

from caseapp import audit
from caseapp.extensions import db
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case
from tests.cases_factory import make_case
from tests.conftest import csrf_token

GIVEN, FAMILY, DOCUMENT = "Yuliana Marcela", "Restrepo Ospina", "1098765432"


@pytest.fixture
def world(app, factory):
    """Two entities, a case at each, staff with every role, and a little history."""
    users = {
        "ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "leo": factory.user("leo", roles=("lawyer",), entity="FISC"),
        "coord": factory.user("coord", roles=("coordinator",), entity="SDIS"),
        "coord_fisc": factory.user("coord_fisc", roles=("coordinator",), entity="FISC"),
        "aud": factory.user("aud", roles=("auditor",), entity="PROC"),
        "root": factory.user("root", roles=("admin",), entity="SDIS"),
    }
    with app.test_request_context():
        from caseapp.models.accounts import User

        sdis = make_case(users["ana"].id, given_names=GIVEN, family_names=FAMILY, document_number=DOCUMENT)
        fisc = make_case(users["leo"].id, document_number="80111222")
        ana = db.session.get(User, users["ana"].id)
        leo = db.session.get(User, users["leo"].id)
        case_sdis = db.session.scalar(select(Case).where(Case.code == sdis))
        case_fisc = db.session.scalar(select(Case).where(Case.code == fisc))
        audit.record("case.view", case_sdis, actor=ana)
        audit.record("case.update", case_sdis, actor=ana, detail={"fields": ["status"]})
        audit.record("case.view", case_fisc, actor=leo)
        audit.record("case.view", case_sdis, actor=leo, outcome="denied")
        audit.record("case.search", actor=ana, object_type="case", detail={"by": "document"})
        db.session.commit()
    return {"users": users, "sdis": sdis, "fisc": fisc}


def _rows(client, path):
    html = client.get(path).get_data(as_text=True)
    return html


def _log(app, **where):
    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.seq)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return rows


def _seqs(html):
    return [int(s) for s in re.findall(r'<td class="num">(\d+)</td>', html)]


# --- the console --------------------------------------------------------------------------------------------


def test_console_lists_rows_newest_first_and_logs_the_view(app, client, login_as, world):
    login_as(world["users"]["aud"])
    r = client.get("/audit/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Bitácora de acceso" in html
    seqs = _seqs(html)
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 5
    assert world["sdis"] in html and "case.search" in html
    view = _log(app, action="audit.console")
    assert len(view) == 1 and view[0].actor == "aud" and view[0].object_type == "audit_log"


@pytest.mark.parametrize("query, expected", [
    ("case={sdis}", {"case.view:ana", "case.update:ana", "case.view:leo"}),
    ("case={sdis_lower}", {"case.view:ana", "case.update:ana", "case.view:leo"}),
    ("user=leo", {"case.view:leo"}),
    ("entity=FISC", {"case.view:leo"}),
    ("action=case.update", {"case.update:ana"}),
    ("outcome=denied", {"case.view:leo"}),
    ("user=ana&case={sdis}&action=case.view", {"case.view:ana"}),
    ("user=nobody", set()),
])
def test_console_filters(client, login_as, world, query, expected):
    login_as(world["users"]["aud"])
    query = query.format(sdis=world["sdis"], sdis_lower=world["sdis"].lower())
    html = client.get(f"/audit/?{query}").get_data(as_text=True)
    found = set()
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)[1:]:
        action = re.search(r"<code>([\w.]+)</code>", row).group(1)
        actor = re.findall(r"<td>([^<]*)</td>", row)[0]
        found.add(f"{action}:{actor}")
    assert found == expected
    if not expected:
        assert "Ningún registro coincide" in html


def test_console_date_range(app, client, login_as, world, clock):
    clock.set("2099-05-02 10:00")
    login_as(world["users"]["aud"])
    with app.test_request_context():
        audit.record("case.view", object_type="case", object_ref=world["sdis"], actor="ana")
        db.session.commit()
    html = client.get("/audit/?since=2099-05-02&until=2099-05-02").get_data(as_text=True)
    assert len(_seqs(html)) == 1 and "02/05/2099 10:00:00" in html  # shown dd/mm/aaaa
    html = client.get("/audit/?since=2099-05-02T10:01").get_data(as_text=True)
    assert _seqs(html) == []
    html = client.get("/audit/?until=2099-05-01").get_data(as_text=True)
    assert len(_seqs(html)) == 5  # everything before (the world's rows), not the 2099 one


def test_keyset_pagination_older_and_newer(app, client, login_as, world):
    login_as(world["users"]["aud"])
    with app.test_request_context():
        for i in range(120):
            audit.record("case.list", actor="ana", object_type="case", detail={"page": i})
        db.session.commit()
    html = client.get("/audit/?action=case.list").get_data(as_text=True)
    first = _seqs(html)
    assert len(first) == 50 and 'rel="prev"' not in html
    older = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "action=case.list" in older and "cursor=" in older
    html2 = client.get(older).get_data(as_text=True)
    second = _seqs(html2)
    assert len(second) == 50 and max(second) < min(first)
    html3 = client.get(re.search(r'href="([^"]+)" rel="next"', html2).group(1).replace("&amp;", "&")).get_data(
        as_text=True)
    third = _seqs(html3)
    assert len(third) == 20 and 'rel="next"' not in html3 and max(third) < min(second)
    back = re.search(r'href="([^"]+)" rel="prev"', html3).group(1).replace("&amp;", "&")
    assert _seqs(client.get(back).get_data(as_text=True)) == second
    # the cursor is opaque: a forged one is refused with a clear message, not a 500
    r = client.get("/audit/?cursor=eyJzZXEiOjF9")
    assert r.status_code == 422 and "no es válido" in r.get_data(as_text=True)


@pytest.mark.parametrize("query, field", [
    ("case=%3Cscript%3E", "case"),
    ("user=a%20b", "user"),
    ("outcome=maybe", "outcome"),
    ("since=yesterday", "since"),
    ("since=2025-03-10&until=2025-03-01", "until"),
])
def test_bad_filters_are_refused_at_the_field(client, login_as, world, query, field):
    login_as(world["users"]["aud"])
    r = client.get(f"/audit/?{query}")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert "<script>" not in html


def test_csv_export_of_the_filtered_rows_is_logged(app, client, login_as, world):
    login_as(world["users"]["aud"])
    r = client.get(f"/audit/export.csv?case={world['sdis']}")
    assert r.status_code == 200
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    assert r.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    # newest first: the export's own row (it names the case), then the case's rows
    assert [(x["action"], x["user"], x["outcome"]) for x in rows] == [
        ("audit.export", "aud", "allowed"), ("case.view", "leo", "denied"), ("case.update", "ana", "allowed"), ("case.view", "ana", "allowed")]
    assert {x["object_ref"] for x in rows} == {world["sdis"]}
    exported = _log(app, action="audit.export")
    assert len(exported) == 1 and exported[0].object_ref == world["sdis"]
    assert world["sdis"] in exported[0].detail


def test_csv_export_neutralises_formulas(app, client, login_as, world):
    with app.test_request_context():
        # A formula with parentheses is not a code: the log never holds it (audit.bounded).
        audit.record("case.view", object_type="case", object_ref="=HYPERLINK(1)", actor="ana")
        # What a code may still start with ("+", "-", "@") is neutralised by the export.
        audit.record("case.view", object_type="case", object_ref="@SUM", actor="ana")
        db.session.commit()
    login_as(world["users"]["aud"])
    body = client.get("/audit/export.csv?user=ana").get_data(as_text=True)
    assert "HYPERLINK" not in body and audit.OMITTED in body
    assert "'@SUM" in body and ",@SUM" not in body


def test_export_of_a_large_log_streams_every_row(app, client, login_as, world):
    from caseapp.services.audit import console as audit_console

    with app.test_request_context():
        for _ in range(audit_console.EXPORT_BATCH + 5):
            audit.record("case.list", actor="ana", object_type="case")
        db.session.commit()
    login_as(world["users"]["aud"])
    rows = list(csv.DictReader(io.StringIO(client.get("/audit/export.csv?action=case.list").get_data(as_text=True))))
    assert len(rows) == audit_console.EXPORT_BATCH + 5
    assert len({r["seq"] for r in rows}) == len(rows)


def test_auditor_never_receives_identity(client, login_as, world):
    login_as(world["users"]["aud"])
    pages = [
        client.get("/audit/").get_data(as_text=True),
        client.get(f"/audit/?case={world['sdis']}").get_data(as_text=True),
        client.get(f"/audit/cases/{world['sdis']}").get_data(as_text=True),
        client.get("/audit/export.csv").get_data(as_text=True),
        client.get("/audit/alerts").get_data(as_text=True),
    ]
    for body in pages:
        for secret in (GIVEN, FAMILY, DOCUMENT, "Yuliana", "Restrepo"):
            assert secret not in body


# --- who may use it ---------------------------------------------------------------------------------------

AUDITOR_PAGES = ["/audit/", "/audit/export.csv", "/audit/alerts", "/audit/?case=SDIS-2025-00001"]


@pytest.mark.parametrize("who", ["ana", "leo", "coord", "root"])
def test_non_auditors_get_403_and_the_denial_is_logged(app, client, login_as, world, who):
    login_as(world["users"][who])
    for path in AUDITOR_PAGES:
        before = len(_log(app, outcome="denied", actor=who))
        r = client.get(path)
        assert r.status_code == 403, path
        assert len(_log(app, outcome="denied", actor=who)) == before + 1, path


def test_anonymous_is_sent_to_login(client, world):
    for path in AUDITOR_PAGES + ["/audit/cases", "/audit/alerts/thresholds"]:
        r = client.get(path)
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_the_auditor_sees_the_menu_entry(client, login_as, world):
    login_as(world["users"]["aud"])
    assert 'href="/audit/"' in client.get("/").get_data(as_text=True)
    login_as(world["users"]["ana"])
    assert 'href="/audit/"' not in client.get("/").get_data(as_text=True)


# --- per-case history ---------------------------------------------------------------------------------------


def test_case_history_for_the_auditor(app, client, login_as, world):
    login_as(world["users"]["aud"])
    r = client.get(f"/audit/cases/{world['sdis']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert len(_seqs(html)) == 3
    assert "case.update" in html and "leo" in html
    assert _log(app, action="audit.case_history")[0].object_ref == world["sdis"]
    r = client.get(f"/audit/cases?code={world['sdis'].lower()}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/audit/cases/{world['sdis']}")


def test_who_accessed_for_the_owning_coordinator(app, client, login_as, world):
    # an auditor looked first: the coordinator is not told
    login_as(world["users"]["aud"])
    client.get(f"/audit/cases/{world['sdis']}")
    login_as(world["users"]["coord"])
    r = client.get(f"/audit/cases/{world['sdis']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "ana" in html and "leo" in html and "case.update" in html
    assert "audit.case_history" not in html and "<td>aud</td>" not in html
    assert "<th scope=\"col\">Dirección</th>" not in html and "fields" not in html  # no address, no detail
    for secret in (GIVEN, FAMILY, DOCUMENT):
        assert secret not in html
    logged = _log(app, action="case.access_history")
    assert len(logged) == 1 and logged[0].actor == "coord" and logged[0].object_ref == world["sdis"]


@pytest.mark.parametrize("who, code, status", [
    ("coord_fisc", "sdis", 404),  # a coordinator of another entity is not told the case exists
    ("ana", "sdis", 403),         # the owning social worker: not an access-history user
    ("leo", "sdis", 403),         # a lawyer is not an access-history user at all
    ("coord", "nonexistent", 404),
    ("aud", "nonexistent", 404),
])
def test_case_history_refusals(app, client, login_as, world, who, code, status):
    login_as(world["users"][who])
    target = world.get(code, "SDIS-2025-99999")
    before = len(_log(app, outcome="denied"))
    r = client.get(f"/audit/cases/{target}")
    assert r.status_code == status
    assert len(_log(app, outcome="denied")) == before + 1


# --- alerts and thresholds ---------------------------------------------------------------------------------


# A Wednesday morning and a Sunday night, after every row of the world (the log's time never goes backwards).
@pytest.mark.parametrize("moment", ["2099-03-04 10:00", "2099-03-08 03:00"])
def test_alerts_page_links_to_the_rows(app, client, login_as, clock, moment, world):
    clock.set(moment)
    login_as(world["users"]["aud"])
    r = client.get("/audit/alerts")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    # leo (FISC) read an SDIS case? No: he was denied. Only his own case. So no cross-entity alert.
    assert "Caso de otra entidad" not in html
    with app.test_request_context():
        audit.record("case.view", object_type="case", object_ref=world["sdis"], actor="leo")
        db.session.commit()
    # the actor string "leo" has no entity: record one with the entity as the service would
    with app.test_request_context():
        from caseapp.models.accounts import User

        leo = db.session.get(User, world["users"]["leo"].id)
        audit.record("case.view", db.session.scalar(select(Case).where(Case.code == world["sdis"])), actor=leo)
        db.session.commit()
    html = client.get(f"/audit/alerts?since={moment[:10]}").get_data(as_text=True)
    assert "Caso de otra entidad sin remisión aceptada" in html
    # At night the same reads also raise the off-hours alert: take the link of the cross-entity row.
    assert ('<tr class="alert-off_hours">' in html) == moment.endswith("03:00")
    row = re.search(r'<tr class="alert-cross_entity">(.*?)</tr>', html, re.S).group(1)
    link = re.search(r'href="(/audit/\?[^"]*)"', row).group(1).replace("&amp;", "&")
    assert f"case={world['sdis']}" in link and "user=leo" in link
    assert "case.view" in client.get(link).get_data(as_text=True)
    assert _log(app, action="audit.alerts")


def test_alert_period_is_validated(client, login_as, world):
    login_as(world["users"]["aud"])
    assert client.get("/audit/alerts?since=banana").status_code == 422


def _threshold_form(client):
    html = client.get("/audit/alerts/thresholds").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html) or re.search(
        r'id="version" name="version" type="hidden" value="(\d+)"', html)
    values = dict(re.findall(r'name="(\w+)" [^>]*value="(\d+)"', html))
    values.pop("version", None)
    return {"csrf_token": csrf_token(client, "/audit/alerts/thresholds"), "version": version.group(1) if version else "0",
            **values, "weekend_is_off_hours": "y"}


def test_admin_edits_thresholds_and_a_stale_form_is_refused(app, client, login_as, world):
    login_as(world["users"]["root"])
    form = _threshold_form(client)
    assert form["many_cases_count"] == "20" and form["version"] == "0"
    r = client.post("/audit/alerts/thresholds", data={**form, "many_cases_count": "12"})
    assert r.status_code == 303
    assert 'value="12"' in client.get("/audit/alerts/thresholds").get_data(as_text=True)
    logged = _log(app, action="admin.alert_thresholds")
    assert len(logged) == 1 and "many_cases_count" in logged[0].detail
    # the same (now stale) form sent again: refused, nothing overwritten
    r = client.post("/audit/alerts/thresholds", data={**form, "many_cases_count": "30"})
    assert r.status_code == 409 and "Nada se guardó" in r.get_data(as_text=True)
    assert 'value="12"' in client.get("/audit/alerts/thresholds").get_data(as_text=True)


@pytest.mark.parametrize("field, value", [("many_cases_count", "0"), ("work_end_hour", "3"),
                                          ("denied_minutes", "abc"), ("lookback_days", "")])
def test_bad_thresholds_are_refused(client, login_as, world, field, value):
    login_as(world["users"]["root"])
    form = _threshold_form(client)
    r = client.post("/audit/alerts/thresholds", data={**form, field: value})
    assert r.status_code == 422
    assert f'id="{field}-error"' in r.get_data(as_text=True)


def test_thresholds_need_csrf_and_an_admin(app, client, login_as, world):
    login_as(world["users"]["root"])
    form = _threshold_form(client)
    r = client.post("/audit/alerts/thresholds", data={**form, "csrf_token": "forged"})
    assert r.status_code == 400
    login_as(world["users"]["aud"])
    assert client.get("/audit/alerts/thresholds").status_code == 403
    assert client.post("/audit/alerts/thresholds", data=form).status_code in (400, 403)


# --- every filter walks an index ----------------------------------------------------------------------------


def _plan(sql_stmt) -> str:
    bind = db.session.get_bind()
    compiled = sql_stmt.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True})
    if bind.dialect.name == "sqlite":
        rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        return "\n".join(str(r[-1]) for r in rows)
    # A tiny test table has no statistics: forbid the plans that only win on tiny tables, so that a Sort or a
    # Seq Scan left in the plan means that no index can serve the query in seq order.
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
        db.session.execute(text(f"SET LOCAL {setting} = off"))
    return "\n".join(r[0] for r in db.session.execute(text(f"EXPLAIN {compiled}")).all())


@pytest.mark.parametrize("args", [
    {}, {"case": "SDIS-2025-00001"}, {"user": "ana"}, {"entity": "SDIS"}, {"action": "case.view"},
    {"outcome": "denied"}, {"since": "2020-01-01", "until": "2100-12-31"},
    {"case": "SDIS-2025-00001", "since": "2020-01-01"}, {"user": "ana", "outcome": "denied"},
])
@pytest.mark.parametrize("direction", [None, "older", "newer"])
def test_every_filter_walks_an_index_in_seq_order(ctx, world, args, direction):
    from caseapp.services.audit import console as audit_console

    with ctx.test_request_context():
        audit.record("case.view", object_type="case", object_ref="SDIS-2025-00001", actor="ana")
        db.session.commit()
    filters = audit_console.parse_filters(args)
    where = audit_console.conditions(filters)
    assert where is not None
    bound = 1000 if direction else None
    plan = _plan(audit_console.page_statement(where, direction, 50).params(audit_console.page_params(where, bound)))
    if db.session.get_bind().dialect.name == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives seq order
        if any(k in args for k in ("case", "user", "entity", "action", "outcome")):
            assert "USING INDEX ix_audit_events_" in plan, plan
        else:  # no column filter: the table itself, in rowid (seq) order, stopped by the LIMIT
            assert plan.strip() in ("SCAN audit_events", "SEARCH audit_events USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)",
                                    "SEARCH audit_events USING INTEGER PRIMARY KEY (rowid<?)",
                                    "SEARCH audit_events USING INTEGER PRIMARY KEY (rowid>?)"), plan
    else:
        assert "Seq Scan" not in plan and "Sort" not in plan, plan
        assert "Index" in plan, plan
    db.session.rollback()


def test_a_console_page_costs_a_fixed_number_of_queries(app, client, login_as, world):
    """No reload per row after the view's own log row is committed (N+1)."""
    from sqlalchemy import event

    with app.test_request_context():
        for _ in range(60):
            audit.record("case.list", actor="ana", object_type="case")
        db.session.commit()
    login_as(world["users"]["aud"])
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get("/audit/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    audit_selects = [s for s in statements if "FROM audit_events" in s]
    assert len(audit_selects) <= 3, audit_selects
