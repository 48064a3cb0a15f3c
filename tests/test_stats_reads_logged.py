"""Every statistics read writes the access log (what was asked, never a figure), and a burst of them raises an
alert: the daily `as_of` stepping of issue 11 left no trace before.

Each path a coordinator can ask a count through (API, screens, files) is one parameter of the same test; a route
added under the statistics paths without a row in the log fails `test_no_statistics_route_escapes_the_log`.
"""
from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models.audit import AuditEvent
from caseapp.services import indicators
from caseapp.services.audit import alerts
from caseapp.services.indicators import reads
from tests.api.test_cases_api import token_for
from tests.cases_factory import make_case

DOC = "77123409"  # a document number: typed where a filter value goes, it must not reach the log


@pytest.fixture
def people(app, factory):
    sw = factory.user("sw", roles=("social_worker",), entity="CTG")
    coord = factory.user("coord", roles=("coordinator",), entity="CTG")
    other = factory.user("coord2", roles=("coordinator",), entity="CTG")
    auditor = factory.user("aud", roles=("auditor",), entity="CTG")
    with app.test_request_context():
        for i in range(6):
            make_case(sw.id, document_number=f"7712350{i:02d}", phone=f"31577710{i:02d}",
                      identified_on=date(2025, 3, 1), linked_on=date(2025, 3, 2 + i))
    return {"sw": sw, "coord": coord, "other": other, "auditor": auditor}


def _head(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))


def _rows_after(app, seq: int) -> list[tuple]:
    with app.app_context():
        return [(e.action, e.object_ref, e.outcome, e.actor, json.loads(e.detail) if e.detail else None)
                for e in db.session.scalars(select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq))]


def _stats_rows(rows) -> list[tuple]:
    return [r for r in rows if r[0] in alerts.STATS_ACTIONS]


# Each path, the row it must write: (action, object_ref, detail). The detail is the question, nothing else.
API_PATHS = [
    ("/api/v1/stats/cases?by=age_group&nationality=VE&period=2025&unit=victims&basis=linked",
     ("stats.read", "stats_cases", {"by": ["age_group"], "filters": {"nationality": "VE"},
                                    "period": "2025", "unit": "victims", "basis": "linked"})),
    ("/api/v1/products/3.5/progress?period=2025&as_of=2025-06-30",
     ("stats.read", "product_progress", {"product": "3.5", "year": 2025, "as_of": "2025-06-30"})),
    ("/api/v1/policies/CTG-PPIG/summary?as_of=2025-06-30",
     ("stats.read", "policy_summary", {"policy": "CTG-PPIG", "as_of": "2025-06-30"})),
    # the family members assisted: codes of their own dimensions are written, a name typed as a value is not
    ("/api/v1/stats/family?by=department&step_kind=reception&unit=steps&period=2025",
     ("stats.read", "stats_family", {"by": ["department"], "filters": {"step_kind": "reception"},
                                     "period": "2025", "unit": "steps"})),
    ("/api/v1/stats/family?by=month&relationship=Rosa%20Elvira",
     ("stats.read", "stats_family", {"by": ["month"], "filters": {"relationship": reads.OTHER},
                                     "unit": "members"})),
]
WEB_PATHS = [
    ("/indicators/?year=2025", ("stats.read", "dashboard", {"year": 2025})),
    ("/indicators/?year=2025&product=3.5&policy=CTG-PPIG",
     ("stats.read", "dashboard", {"year": 2025, "product": "3.5", "policy": "CTG-PPIG"})),
    ("/indicators/products/3.5?year=2025", ("stats.read", "product_progress", {"product": "3.5", "year": 2025})),
    ("/indicators/policies/CTG-PPIG?as_of=2025-06-30",
     ("stats.read", "policy_summary", {"policy": "CTG-PPIG", "as_of": "2025-06-30"})),
    ("/indicators/counts?by=sex&by2=age_group&period=2025",
     ("stats.read", "stats_cases", {"by": ["sex", "age_group"], "filters": {}, "period": "2025",
                                    "unit": "cases", "basis": "identified"})),
    ("/indicators/counts?by=month&f_ethnic_group=none&basis=linked",
     ("stats.read", "stats_cases", {"by": ["month"], "filters": {"ethnic_group": "none"}, "unit": "cases",
                                    "basis": "linked"})),
    # files: one `stats.export` row each, the reads made to build it not logged one by one
    ("/indicators/export/counts?by=sex&period=2025&format=csv",
     ("stats.export", "stats_table", {"by": ["sex"], "filters": [], "period": "2025", "format": "csv"})),
    ("/indicators/export/counts?by=sex&by2=age_group&format=xlsx",
     ("stats.export", "stats_table", {"by": ["sex", "age_group"], "filters": [], "period": "", "format": "xlsx"})),
    ("/indicators/export/product?code=3.5&year=2025&format=xlsx",
     ("stats.export", "product_sheet", {"product": "3.5", "year": 2025, "format": "xlsx"})),
    ("/indicators/export/report?kind=yearly&year=2025&format=csv",
     ("stats.export", "yearly_report", {"year": 2025, "format": "csv"})),
    ("/indicators/export/report?kind=monthly&period=2025-03&format=xlsx",
     ("stats.export", "monthly", {"period": "2025-03", "format": "xlsx"})),
    ("/indicators/export/report?kind=bimonthly&period=2025-B2&format=csv",
     ("stats.export", "bimonthly", {"period": "2025-B2", "format": "csv"})),
]


def _get(app, client, login_as, people, url, who="coord"):
    if url.startswith("/api/"):
        return client.get(url, headers=token_for(app, people[who]))
    login_as(people[who])
    return client.get(url)


@pytest.mark.parametrize(("url", "expected"), API_PATHS + WEB_PATHS, ids=[u for u, _e in API_PATHS + WEB_PATHS])
def test_each_statistics_path_writes_exactly_its_row(app, client, login_as, people, url, expected):
    before = _head(app)
    response = _get(app, client, login_as, people, url)
    assert response.status_code == 200, url
    rows = _rows_after(app, before)
    action, ref, detail = expected
    assert _stats_rows(rows) == [(action, ref, "allowed", "coord", detail)]
    assert [r for r in rows if r[0] not in alerts.STATS_ACTIONS and not r[0].startswith("login")] == []


def test_a_repeated_question_is_a_row_each_time(app, client, people):
    headers = token_for(app, people["coord"])
    before = _head(app)
    for _ in range(3):
        assert client.get("/api/v1/stats/cases?by=sex", headers=headers).status_code == 200
    assert [r[1] for r in _stats_rows(_rows_after(app, before))] == ["stats_cases"] * 3


def test_the_row_holds_no_figure(app, client, people):
    """The answer's numbers appear nowhere in the row: only the question's codes do."""
    before = _head(app)
    body = client.get("/api/v1/products/3.5/progress?period=2025&as_of=2025-12-31",
                      headers=token_for(app, people["coord"])).get_json()
    assert body["achieved"] == 6.0
    (row,) = _stats_rows(_rows_after(app, before))
    assert set(row[4]) == {"product", "year", "as_of"}
    assert not {"achieved", "count", "total", "progress", "rows"} & set(row[4])


# --- hostile questions -------------------------------------------------------------------------------------------


def test_a_document_number_typed_as_a_filter_never_reaches_the_log(app, client, people):
    headers = token_for(app, people["coord"])
    before = _head(app)
    unknown_key = client.get(f"/api/v1/stats/cases?by=sex&document_number={DOC}", headers=headers)
    as_a_value = client.get(f"/api/v1/stats/cases?by=sex&nationality={DOC}", headers=headers)
    as_a_period = client.get(f"/api/v1/stats/cases?by=sex&period={DOC}", headers=headers)
    assert unknown_key.status_code == 422 and as_a_value.status_code == 200 and as_a_period.status_code == 422
    rows = _stats_rows(_rows_after(app, before))
    assert [(r[0], r[2]) for r in rows] == [("stats.read", "denied"), ("stats.read", "allowed"),
                                            ("stats.read", "denied")]
    assert rows[0][4] == {"by": ["sex"], "filters": {}, "unknown_filters": 1, "unit": "cases",
                          "basis": "identified"}
    assert rows[1][4]["filters"] == {"nationality": reads.OTHER}
    assert rows[2][4]["period"] == reads.OTHER
    with app.app_context():
        logged = " ".join(f"{e.object_ref} {e.detail}" for e in db.session.scalars(select(AuditEvent)))
    assert DOC not in logged and "document_number" not in logged


@pytest.mark.parametrize(("who", "url", "status"), [
    ("sw", "/api/v1/stats/cases?by=sex", 403),
    ("sw", "/api/v1/products/3.5/progress?as_of=2025-06-30", 403),
    ("coord", f"/api/v1/products/{DOC}/progress", 404),
    ("coord", f"/api/v1/policies/{DOC}/summary", 404),
    ("coord", "/api/v1/stats/cases?by=name", 422),
    ("sw", "/indicators/counts?by=sex", 403),
])
def test_a_refused_statistics_request_is_logged_too(app, client, login_as, people, who, url, status):
    before = _head(app)
    assert _get(app, client, login_as, people, url, who).status_code == status
    rows = [r for r in _rows_after(app, before) if not r[0].startswith("login")]
    assert len(rows) == 1 and rows[0][2] == "denied" and rows[0][3] == who
    assert DOC not in json.dumps(rows)


# --- the daily stepping attack and the alert -----------------------------------------------------------------------


def test_daily_as_of_stepping_leaves_a_row_per_day_and_raises_the_burst_alert(app, client, login_as, people, clock):
    clock.set("2026-03-10 10:00")  # a Tuesday morning in Cartagena: nothing else unusual about the reads
    coord, other = token_for(app, people["coord"]), token_for(app, people["other"])
    before = _head(app)
    first = date(2025, 3, 1)
    days = [(first + timedelta(days=i)).isoformat() for i in range(40)]
    for day in days:
        assert client.get(f"/api/v1/products/3.5/progress?period=2025&as_of={day}", headers=coord).status_code == 200
        clock.advance(seconds=5)
    for _ in range(3):  # an ordinary reader
        assert client.get("/api/v1/stats/cases?by=sex", headers=other).status_code == 200
        clock.advance(seconds=5)
    rows = _stats_rows(_rows_after(app, before))
    stepped = [r for r in rows if r[3] == "coord"]
    assert len(stepped) == 40 and [r[4]["as_of"] for r in stepped] == days  # what was asked, day by day
    since, until = clock.now.replace(tzinfo=None) - timedelta(days=1), clock.now.replace(tzinfo=None) + timedelta(days=1)
    with app.app_context():
        found = [a for a in alerts.compute(since, until) if a.kind == "stats_burst"]
        assert [(a.actor, a.entity, a.count) for a in found] == [("coord", "CTG", 40)]
        assert found[0].filters["user"] == "coord"
        # the threshold is the admins' to set: more than 40 in 10 minutes is needed here, so none
        assert [a for a in alerts.compute(since, until, dict(alerts.DEFAULTS, stats_burst_count=40))
                if a.kind == "stats_burst"] == []
    # the auditor sees it in the console, with the other alerts
    login_as(people["auditor"])
    page = client.get("/audit/alerts").get_data(as_text=True)
    assert "Muchas consultas de estadísticas en poco tiempo" in page
    row = page[page.index('class="alert-stats_burst"'):].split("</tr>")[0]
    assert ">coord<" in row and ">40<" in row and "coord2" not in page


def test_reads_spread_over_the_day_raise_no_burst(app, client, people, clock):
    clock.set("2026-03-10 08:00")
    coord = token_for(app, people["coord"])
    for i in range(35):
        assert client.get(f"/api/v1/products/3.5/progress?as_of=2025-03-{1 + i % 28:02d}",
                          headers=coord).status_code == 200
        clock.advance(minutes=1)  # 35 reads, never more than 30 within 10 minutes
    with app.app_context():
        now = clock.now.replace(tzinfo=None)
        assert [a for a in alerts.compute(now - timedelta(days=1), now + timedelta(days=1))
                if a.kind == "stats_burst"] == []


def test_the_burst_threshold_is_editable_like_the_others(app, client, login_as, factory):
    from tests.conftest import csrf_token

    admin = factory.user("root", roles=("admin",), entity="CTG")
    login_as(admin)
    page = client.get("/audit/alerts/thresholds").get_data(as_text=True)
    assert "Muchas consultas de estadísticas en poco tiempo" in page and 'name="stats_burst_count"' in page
    token = csrf_token(client, "/audit/alerts/thresholds")
    with app.app_context():
        values, version = alerts.thresholds()
    data = {**{k: str(v) for k, v in values.items()}, "stats_burst_count": "12", "stats_burst_minutes": "5",
            "weekend_is_off_hours": "y", "version": str(version), "csrf_token": token}
    assert client.post("/audit/alerts/thresholds", data=data).status_code == 303
    with app.app_context():
        values = alerts.thresholds()[0]
    assert (values["stats_burst_count"], values["stats_burst_minutes"]) == (12, 5)
    data.update(stats_burst_count="1", csrf_token=csrf_token(client, "/audit/alerts/thresholds"),
                version=str(alerts_version(app)))
    assert client.post("/audit/alerts/thresholds", data=data).status_code == 422


def alerts_version(app) -> int:
    with app.app_context():
        return alerts.thresholds()[1]


# --- the guards: a new path without the rule fails -----------------------------------------------------------------

# Routes under the statistics paths that answer no count, and why.
NOT_A_READ = {
    "api.products": "the product catalogue: names and targets, no figure",
    "indicators.reports": "the list of files to download",
    "indicators.suppression": "admin: the threshold k",
    "indicators.plans": "admin: importing an action plan",
    "indicators.plans_confirm": "admin: importing an action plan",
    "indicators.admin_products": "admin: the product catalogue",
    "indicators.admin_product": "admin: editing a product",
}
SAMPLE = {
    "api.stats_cases": "/api/v1/stats/cases?by=sex",
    "api.stats_family": "/api/v1/stats/family",
    "api.product_progress": "/api/v1/products/3.5/progress?as_of=2025-06-30",
    "api.policy_summary": "/api/v1/policies/CTG-PPIG/summary",
    "indicators.dashboard": "/indicators/",
    "indicators.product": "/indicators/products/3.5",
    "indicators.policy": "/indicators/policies/CTG-PPIG",
    "indicators.counts": "/indicators/counts?by=sex",
    "indicators.export_product": "/indicators/export/product?code=3.5&year=2025",
    "indicators.export_counts": "/indicators/export/counts?by=sex",
    "indicators.export_report": "/indicators/export/report?kind=yearly&year=2025",
}
STATS_PREFIXES = ("/api/v1/stats", "/api/v1/products", "/api/v1/policies")


def test_no_statistics_route_escapes_the_log(app, client, login_as, people):
    routes = {r.endpoint for r in app.url_map.iter_rules()
              if r.rule.startswith(STATS_PREFIXES) or r.endpoint.startswith("indicators.")}
    unknown = routes - set(SAMPLE) - set(NOT_A_READ)
    assert not unknown, f"new statistics routes: give each a sample URL here, and make its service logged: {unknown}"
    for endpoint, url in SAMPLE.items():
        before = _head(app)
        assert _get(app, client, login_as, people, url).status_code == 200, url
        assert len(_stats_rows(_rows_after(app, before))) == 1, endpoint


def _service_functions():
    package = indicators
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and fn.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", fn


def test_every_service_that_answers_counts_is_logged():
    """A service entry point that requires `stats.read` is wrapped by `reads.logged` (or, for a file,
    `reads.export_scope` with its own `stats.export` row): then web, API and CLI paths all log through it."""
    checks_only = {"caseapp.services.indicators.products.require_reader"}
    missing = [name for name, fn in _service_functions()
               if '"stats.read"' in inspect.getsource(fn) and name not in checks_only
               and not (hasattr(fn, "__stats_read__") or hasattr(fn, "__stats_export__"))
               and not name.startswith("caseapp.services.indicators.reads.")]
    assert missing == []


def test_a_service_called_without_a_request_logs_too(app, people):
    """The command line and the demo loader call the services with no request: the row is written all the same."""
    from caseapp.models.accounts import User
    from caseapp.services.indicators import stats

    before = _head(app)
    with app.app_context():
        user = db.session.get(User, people["coord"].id)
        stats.cases_table(user, "age_group", period="2025")
        indicators.policy_summary(user, "CTG-PPIG", date(2025, 6, 30))
    rows = _stats_rows(_rows_after(app, before))
    assert [(r[0], r[1], r[3]) for r in rows] == [("stats.read", "stats_cases", "coord"),
                                                  ("stats.read", "policy_summary", "coord")]
    assert rows[0][4] == {"by": ["age_group"], "period": "2025"}


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"by": "sex,age_group"}, {"by": ["sex", "age_group"]}),
    ({"by": "sex,nombre_victima"}, {"by": ["sex", reads.OTHER]}),
    ({"filters": {"nationality": "CO", "ethnic_group": "rrom", "sex": "<script>"}},
     {"filters": {"nationality": "CO", "ethnic_group": "rrom", "sex": reads.OTHER}}),
    ({"filters": {"entity": "CTG", "exploitation_purpose": "sexual_exploitation"}},
     {"filters": {"entity": "CTG", "exploitation_purpose": "sexual_exploitation"}}),
    ({"filters": {"entity": DOC, "exploitation_purpose": "María José"}},
     {"filters": {"entity": reads.OTHER, "exploitation_purpose": reads.OTHER}}),
    ({"filters": {"nombre": "María José", "documento": DOC, "sex": ""}}, {"filters": {}, "unknown_filters": 2}),
    ({"period": "2025-B3", "unit": "victims", "basis": "linked"},
     {"period": "2025-B3", "unit": "victims", "basis": "linked"}),
    ({"period": DOC, "unit": "personas", "basis": "'; DROP TABLE cases"},
     {"period": reads.OTHER, "unit": reads.OTHER, "basis": reads.OTHER}),
    ({"code": "3.5", "as_of": date(2025, 6, 30), "year": 2025}, {"product": "3.5", "as_of": "2025-06-30", "year": 2025}),
    ({"code": "María José", "territory": "13001", "dim": "nombre"},
     {"product": reads.OTHER, "territory": "13001", "dim": reads.OTHER}),
])
def test_the_question_is_written_as_codes_only(app, people, arguments, expected):
    with app.app_context():
        assert reads.asked({"actor": None, **arguments}, {"code": "product"}) == expected
