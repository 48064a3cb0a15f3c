"""One catalogue of labels, one Spanish translation per message, no raw code on a screen or in an export.

The translation check fails when two fragments translate one message (same id, same context) differently, and
passes on the real catalogue; every code of the models' value lists has a label; the access-log console and its
export name actions, outcomes and roles in Spanish while keeping the codes auditors filter by; a nationality
left blank is counted and shown as "No informa", apart from every country.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from caseapp import audit, i18n_catalog, labels
from caseapp.extensions import db
from caseapp.models import accounts, cases, indicators, referrals, route, victims
from caseapp.models import audit as audit_model
from caseapp.services.registry import erasure

ROOT = Path(__file__).resolve().parent.parent

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'


def _fragment(directory: Path, name: str, body: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(HEADER + body, encoding="utf-8")


# --- the translation check ------------------------------------------------------------------------------------


def test_the_check_fails_on_two_fragments_that_disagree(tmp_path, monkeypatch, capsys):
    fragments = tmp_path / "es_CO" / "fragments"
    _fragment(fragments, "a.po", 'msgid "Requested"\nmsgstr "Solicitado"\n\n'
                                 'msgctxt "protection measure"\nmsgid "Granted"\nmsgstr "Otorgada"\n')
    _fragment(fragments, "b.po", 'msgid "Requested"\nmsgstr "Solicitada"\n\n'
                                 'msgctxt "permit"\nmsgid "Granted"\nmsgstr "Otorgado"\n')
    found = i18n_catalog.conflicts("es_CO", fragments)
    # One id, two translations: a conflict. One id in two contexts: two messages, each with one translation.
    assert found == {(None, "Requested"): [("a.po", ("Solicitado",)), ("b.po", ("Solicitada",))]}

    monkeypatch.setattr(i18n_catalog, "TRANSLATIONS", tmp_path)
    monkeypatch.setattr(i18n_catalog, "extract", lambda: {})
    assert i18n_catalog.main(["i18n_catalog", "check"]) == 1
    out = capsys.readouterr().out
    assert "'Requested' is translated differently" in out
    assert "a.po: 'Solicitado'" in out and "b.po: 'Solicitada'" in out and "Granted" not in out


def test_missing_knows_contexts(tmp_path, monkeypatch):
    fragments = tmp_path / "es_CO" / "fragments"
    _fragment(fragments, "a.po", 'msgctxt "protection measure"\nmsgid "Requested"\nmsgstr "Solicitada"\n')
    wanted = {("protection measure", "Requested"): ["x.py:1"], ("date of a request", "Requested"): ["x.py:2"],
              (None, "Requested"): ["x.py:3"]}
    monkeypatch.setattr(i18n_catalog, "extract", lambda: wanted)
    assert set(i18n_catalog.missing("es_CO", fragments)) == {("date of a request", "Requested"),
                                                               (None, "Requested")}
    merged = i18n_catalog.merged("es_CO", fragments)
    assert merged.get("Requested", context="protection measure").string == "Solicitada"


def test_contexts_are_extracted_from_code_and_templates():
    found = i18n_catalog.extract()
    assert any(w.startswith("caseapp/labels.py") for w in found[("protection measure", "Requested")])
    assert any(w.startswith("templates/") for w in found[("referral", "From")])


def test_the_real_catalogue_passes_the_check(capsys):
    assert i18n_catalog.main(["i18n_catalog", "check"]) == 0, capsys.readouterr().out
    assert i18n_catalog.conflicts() == {}


# --- the catalogue covers every code ------------------------------------------------------------------------

VALUE_LISTS = [
    ("status", cases.CASE_STATUSES), ("closure", cases.CLOSURE_REASONS),
    ("identification_source", cases.IDENTIFICATION_SOURCES), ("trafficking_scope", cases.TRAFFICKING_SCOPES),
    ("victim_status", cases.VICTIM_STATUSES), ("control_method", cases.CONTROL_METHODS),
    ("consent_kind", cases.CONSENT_KINDS), ("consent_method", cases.CONSENT_METHODS),
    ("screening_act", cases.SCREENING_ACTS), ("screening_means", cases.SCREENING_MEANS),
    ("document_type", victims.DOCUMENT_TYPES), ("sex", victims.SEXES),
    ("gender_identity", victims.GENDER_IDENTITIES), ("age_group", victims.AGE_GROUPS),
    ("ethnic_group", victims.ETHNIC_GROUPS), ("migrant_status", victims.MIGRANT_STATUSES),
    ("yes_no", victims.YES_NO_UNKNOWN), ("phase", route.PHASES), ("step_status", route.STEP_STATUSES),
    ("section", route.STEP_SECTIONS), ("goal_area", route.GOAL_AREAS), ("goal_status", route.GOAL_STATUSES),
    ("stage", route.LEGAL_STAGES), ("representation", route.LEGAL_REPRESENTATION),
    ("event_kind", route.LEGAL_EVENT_KINDS), ("protection", route.PROTECTION_KINDS),
    ("protection_status", route.PROTECTION_STATUSES), ("referral_status", referrals.REFERRAL_STATUSES),
    ("section", referrals.SHARED_SECTIONS), ("role", accounts.ROLES), ("entity_kind", accounts.ENTITY_KINDS),
    ("audit_outcome", audit_model.OUTCOMES), ("periodicity", indicators.PERIODICITIES),
    ("accumulation", indicators.ACCUMULATIONS), ("erasure_reason", erasure.ERASURE_REASONS),
]


@pytest.mark.parametrize("group, codes", VALUE_LISTS, ids=[g for g, _c in VALUE_LISTS])
def test_every_code_of_the_models_has_a_label(group, codes):
    assert [c for c in codes if c not in labels.LABELS[group]] == []


def test_the_counts_formulas_and_lights_have_labels():
    from caseapp.services import indicators as ind
    from caseapp.services.indicators import stats

    assert set(ind.FORMULAS) <= set(labels.LABELS["formula"])
    assert set(ind.LIGHTS) <= set(labels.LABELS["traffic_light"])
    assert set(stats.DIMENSIONS) <= set(labels.LABELS["stats_dimension"])


def _logged_actions() -> set[str]:
    """Every literal action the code writes to the access log or refuses with (authz actions are logged too)."""
    pattern = re.compile(r'(?:record|record_and_commit|_record|require|_failure|_answer)\([^()]*?"([a-z_]+\.[a-z_.]+)"'
                         r'|action="([a-z_]+\.[a-z_.]+)"|"(?:accepted|rejected|withdrawn)": "([a-z_.]+)"')
    found = set()
    for path in (ROOT / "caseapp").rglob("*.py"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found.update(g for g in match.groups() if g)
    return found


# Actions the pattern above cannot see: no dot, chosen by a condition, or kept in a dict of the notes service.
OTHER_ACTIONS = {"logout", "audit.api", "case.legal.write", "case.psychosocial.write", "case.legal_notes.read",
                 "case.psychosocial.read", "referral.fulfil", "referral.read", "case.identity.read",
                 "case.account.read", "case.refer"}


def test_every_logged_action_has_a_spanish_name():
    actions = _logged_actions()
    assert {"case.view", "login.failure", "referral.accept", "case.phase.mediate", "admin.user.create"} <= actions
    actions |= OTHER_ACTIONS
    unnamed = sorted(a for a in actions if labels.action_label(a) == str(labels.UNKNOWN_ACTION))
    assert unnamed == []


def test_actions_with_a_variable_part_get_a_readable_name(app):
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert labels.action_label("request:cases.detail") == "Solicitud de una página"
        assert labels.action_label("case.record_step:psychosocial_followup") == "Registro de una acción de asistencia"
        assert labels.action_label("something.new") == "Otra acción"
        for section in route.NOTE_SECTIONS:
            assert labels.action_label(f"case.{section}_notes.view") != "Otra acción"


# --- screens and exports show labels ------------------------------------------------------------------------


@pytest.fixture
def auditor(app, factory):
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    aud = factory.user("aud", roles=("auditor",), entity="PROC")
    with app.test_request_context():
        from caseapp.models.accounts import User

        actor = db.session.get(User, ana.id)
        audit.record("case.route.view", object_type="case", object_ref="SDIS-2025-00001", actor=actor)
        audit.record("referral.accept", object_type="case", object_ref="SDIS-2025-00001", actor=actor)
        audit.record("request:cases.detail", actor=actor, outcome="denied")
        audit.record("case.record_step:psychosocial_followup", object_type="case", object_ref="SDIS-2025-00001",
                     actor=actor, outcome="denied")
        db.session.commit()
    return aud


def test_the_access_log_console_names_actions_roles_and_outcomes(client, login_as, auditor):
    login_as(auditor)
    html = client.get("/audit/").get_data(as_text=True)
    for spanish in ("Consulta de la ruta de asistencia", "Remisión aceptada", "Solicitud de una página",
                    "Registro de una acción de asistencia", "Trabajo social (psicosocial)", "Denegado", "Permitido",
                    "Caso"):
        assert spanish in html, spanish
    # The codes stay next to their labels, for auditors who filter by them; no role code reaches a cell.
    assert "<code>case.route.view</code>" in html and "<code>request:cases.detail</code>" in html
    assert ">social_worker<" not in html and "<td>case</td>" not in html


def test_the_access_log_export_has_labels_beside_codes(client, login_as, auditor):
    login_as(auditor)
    body = client.get("/audit/export.csv?user=ana").get_data(as_text=True)
    rows = {r["action"]: r for r in csv.DictReader(io.StringIO(body))}
    assert rows["case.route.view"]["action_label"] == "Consulta de la ruta de asistencia"
    assert rows["request:cases.detail"]["outcome_label"] == "Denegado"
    assert rows["referral.accept"]["roles_label"] == "Trabajo social (psicosocial)"


def test_admin_lists_show_role_and_entity_kind_labels(client, login_as, factory):
    root = factory.user("root", roles=("admin",), entity="SDIS")
    login_as(root)
    users = client.get("/admin/users").get_data(as_text=True)
    assert "Administrador(a)" in users and ">admin<" not in users
    entities = client.get("/admin/entities").get_data(as_text=True)
    assert "Gobierno" in entities and ">government<" not in entities


def test_a_blank_nationality_is_counted_as_not_stated_apart_from_countries(app, client, login_as, factory):
    from caseapp.models.accounts import User
    from caseapp.services.indicators import exports, stats
    from tests.cases_factory import make_case

    sw = factory.user("sw", roles=("social_worker",), entity="CTG")
    coordinator = factory.user("coord", roles=("coordinator",), entity="CTG")
    with app.test_request_context(headers={"Accept-Language": "es"}):
        for i in range(6):
            make_case(sw.id, document_number=f"71{i:06d}", nationality=None)
        for i in range(6):
            make_case(sw.id, document_number=f"72{i:06d}", nationality="CO")
        db.session.commit()
        table = stats.cases_table(db.session.get(User, coordinator.id), "nationality", period="2025")
        counts = {r.values["nationality"]: r.count for r in table.rows}
        assert counts == {"unknown": 6, "CO": 6}
        assert stats.value_label("nationality", "unknown") == "No informa"
        assert stats.value_label("nationality", "CO") == "Colombia"
        data, _mimetype, _name = exports.stats_table(db.session.get(User, coordinator.id), "nationality", period="2025")
        text = data.decode("utf-8-sig")
        assert "No informa;6" in text and "Colombia;6" in text and "unknown" not in text
    login_as(coordinator)
    html = client.get("/indicators/counts?by=nationality,sex").get_data(as_text=True)
    assert "No informa" in html and "Colombia" in html and ">unknown<" not in html and ">female<" not in html
    # Filters on closed value lists are chosen by label, not typed as codes.
    assert re.search(r'<select id="f_sex" name="f_sex">.*?<option value="female">Mujer</option>', html, re.S)
