"""Real browser: a social worker of entity A refers a case to entity B; a user of B accepts it and logs a step."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case, Consent
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case


def test_refer_accept_and_log_a_step(app, factory, page, browser_login, live_server):
    a = factory.user("ana", roles=("social_worker",), entity="SDIS")
    b = factory.user("beto", roles=("social_worker",), entity="OIM")
    with app.test_request_context():
        code = make_case(a.id, identified_on=date(2025, 3, 10))
        case = db.session.scalar(select(Case).where(Case.code == code))
        oim = db.session.scalar(select(Entity).where(Entity.code == "OIM"))
        # the victim's consent to share her case with OIM (recorded by the registry's consent screen)
        case.consents.append(Consent(kind="sharing", entity_id=oim.id, given_on=date(2025, 3, 10), method="written",
                                     taken_by_id=a.id, recorded_at=utcnow()))
        db.session.commit()

    browser_login(a)
    page.goto(f"/route/cases/{code}")
    page.get_by_role("link", name="Remitir este caso a otra entidad").click()
    page.get_by_label("Remitir a").select_option("OIM")
    page.get_by_label("Servicio solicitado").select_option("material_assistance")
    page.get_by_label("Motivo de la remisión").fill("Entrega de kit y alimentación")
    page.get_by_label("Psicosocial").check()
    page.get_by_role("button", name="Enviar la remisión").click()
    page.get_by_text("Remisión enviada a OIM.").wait_for()
    page.get_by_role("button", name="Cerrar sesión").click()
    page.get_by_label("Usuario").wait_for()

    browser_login(b)
    assert page.goto("/route/cases/" + code).status == 404  # nothing before acceptance
    page.goto("/referrals/")
    page.get_by_role("link", name=code).click()
    page.get_by_role("button", name="Aceptar").click()
    page.get_by_text("Remisión aceptada").wait_for()
    page.get_by_role("link", name="Abrir la ruta del caso").click()
    page.get_by_text("Registrar un paso").click()
    page.get_by_label("Tipo de acción").select_option("material_assistance")
    page.get_by_label("Estado").first.select_option("done")
    page.get_by_label("Fecha de realización").last.fill("2025-03-11")
    page.get_by_role("button", name="Registrar la acción").click()
    page.get_by_text("Acción registrada.").wait_for()
    assert "Asistencia material" in page.content()
    assert "Mariana" not in page.content()  # identity was not shared
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        assert case.status == "in_immediate_assistance"
