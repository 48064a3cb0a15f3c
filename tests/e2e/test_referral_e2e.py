"""Real browser: a social worker of entity A refers a case to entity B for a service; a user of B accepts it and
records the service it was asked for (and nothing else), which closes the referral and B's access with it."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case, Consent
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case


def test_refer_accept_and_record_the_service(app, factory, page, browser_login, live_server):
    a = factory.user("ana", roles=("social_worker",), entity="SDIS")
    b = factory.user("beto", roles=("social_worker",), entity="OIM")
    with app.test_request_context():
        code = make_case(a.id, identified_on=date(2025, 3, 10), status="in_immediate_assistance",
                         intake_on=date(2025, 3, 10))
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
    page.get_by_label("Servicio solicitado").select_option("psychological_assessment")
    page.get_by_label("Motivo de la remisión").fill("Valoración psicológica y primeros auxilios")
    page.get_by_role("button", name="Enviar la remisión").click()
    page.locator("p.error", has_text="debe compartir al menos una de estas secciones").wait_for()  # summary: not enough
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
    record_service = page.get_by_role("link", name="Registrar el servicio prestado")
    record_service.wait_for()  # the route page has loaded, so what it lacks is really absent
    assert "Registrar un paso" not in page.content()  # B records its service, not any step
    record_service.click()
    page.get_by_label("Servicio prestado el").fill("2025-03-11")
    page.get_by_role("button", name="Registrar el servicio y cerrar la remisión").click()
    page.get_by_text("Servicio registrado en el caso").wait_for()
    assert "Mariana" not in page.content()  # identity was not shared
    assert page.goto("/route/cases/" + code).status == 404  # done: the door closes again
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        assert case.status == "in_immediate_assistance"  # B's service did not move the case
        step = db.session.scalar(select(AssistanceStep).where(AssistanceStep.case_id == case.id))
        referral = db.session.scalar(select(Referral).where(Referral.case_id == case.id))
        assert referral.status == "done" and referral.step_id == step.id
        assert step.kind.code == "psychological_assessment" and step.provider_entity.code == "OIM"
