"""Issue 13's pages for bench/pages.py, on a database bench/generate_casework.py has completed: who asks for each
(a social worker with her caseload, a lawyer with hers, a receiving entity's user) and on which cases."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import exists, select

from caseapp.extensions import db
from caseapp.models.assignments import CaseAssignment
from caseapp.models.attachments import CaseAttachment
from caseapp.models.cases import Case, IndirectVictim
from caseapp.models.route import LegalProceeding
from caseapp.models.safety import SafetyFlag

LIMIT = 200


def _codes(query) -> list[str]:
    codes = list(db.session.scalars(query.limit(LIMIT)))
    if not codes:
        raise SystemExit(f"no case for {query}")
    return codes


def cases_for(users, ctg: int) -> SimpleNamespace:
    """The cases each page is asked about: her own caseload's, or CTG's cases that hold what the page shows."""

    def assigned(username, role):
        return select(Case.code).join(CaseAssignment, CaseAssignment.case_id == Case.id).where(
            CaseAssignment.user_id == users[username].id, CaseAssignment.role == role,
            CaseAssignment.ended_at.is_(None), Case.status != "closed").order_by(Case.id)

    has_proceeding = exists().where(LegalProceeding.case_id == Case.id)
    has_family = exists().where(IndirectVictim.case_id == Case.id)
    has_file = exists().where(CaseAttachment.case_id == Case.id)
    flagged = exists().where(SafetyFlag.case_id == Case.id, SafetyFlag.cleared_at.is_(None))
    ctg_cases = select(Case.code).where(Case.owner_entity_id == ctg).order_by(Case.id)
    return SimpleNamespace(
        caseload=_codes(assigned("sw_ctg", "social_worker")),
        legal=_codes(assigned("lawyer_ctg", "lawyer").where(has_proceeding)),
        # a case with most of what issue 13 added: proceeding, family members, an attachment
        rich=_codes(ctg_cases.where(has_proceeding, has_family, has_file)),
        family=_codes(ctg_cases.where(has_family)),
        flagged=_codes(ctg_cases.where(flagged)),
        files=db.session.execute(select(Case.code, CaseAttachment.id).join(Case, Case.id == CaseAttachment.case_id)
                                 .where(Case.owner_entity_id == ctg).order_by(CaseAttachment.id).limit(LIMIT)).all(),
    )


def pages(work, rnd, web, bearer) -> dict:
    sw, lawyer, oim = bearer("sw_ctg"), bearer("lawyer_ctg"), bearer("sw_oim")

    def one(codes):
        return rnd.choice(codes)

    def download():
        code, attachment_id = rnd.choice(work.files)
        return "GET", f"/api/v1/cases/{code}/attachments/{attachment_id}", None, dict(sw)

    return {
        "Mis casos (social worker)": lambda: ("GET", "/my-cases", None, web("sw_ctg")),
        "Mis casos (lawyer)": lambda: ("GET", "/my-cases", None, web("lawyer_ctg")),
        "agenda page (social worker)": lambda: ("GET", "/route/agenda", None, web("sw_ctg")),
        "agenda page (lawyer)": lambda: ("GET", "/route/agenda", None, web("lawyer_ctg")),
        "API agenda (social worker)": lambda: ("GET", "/api/v1/agenda", None, dict(sw)),
        "API agenda (lawyer)": lambda: ("GET", "/api/v1/agenda", None, dict(lawyer)),
        "legal follow-up page (lawyer)": lambda: ("GET", f"/legal/cases/{one(work.legal)}", None, web("lawyer_ctg")),
        "case page (her caseload)": lambda: ("GET", f"/cases/{one(work.caseload)}", None, web("sw_ctg")),
        "case page (rich case)": lambda: ("GET", f"/cases/{one(work.rich)}", None, web("sw_ctg")),
        "case timeline page": lambda: ("GET", f"/cases/{one(work.rich)}/timeline", None, web("sw_ctg")),
        "API case timeline": lambda: ("GET", f"/api/v1/cases/{one(work.rich)}/timeline", None, dict(sw)),
        "printable summary (PDF)": lambda: ("GET", f"/cases/{one(work.rich)}/summary.pdf", None, web("sw_ctg")),
        "API attachments list": lambda: ("GET", f"/api/v1/cases/{rnd.choice(work.files)[0]}/attachments", None,
                                         dict(sw)),
        "API attachment download": download,
        "family members page": lambda: ("GET", f"/cases/{one(work.family)}/family", None, web("sw_ctg")),
        "safety flags page": lambda: ("GET", f"/cases/{one(work.flagged)}/safety", None, web("sw_ctg")),
        "notifications page (receiving)": lambda: ("GET", "/notifications/", None, web("sw_oim")),
        "API notifications (receiving)": lambda: ("GET", "/api/v1/notifications", None, dict(oim)),
        "notifications page (social wkr)": lambda: ("GET", "/notifications/", None, web("sw_ctg")),
        # lists that grow with an entity's work: its referrals both ways, the month's list for the table, shelters
        "referrals inbox (incoming)": lambda: ("GET", "/referrals/?direction=incoming", None, web("sw_ctg")),
        "referrals inbox (outgoing)": lambda: ("GET", "/referrals/?direction=outgoing", None, web("sw_ctg")),
        "API referrals (receiving)": lambda: ("GET", "/api/v1/referrals", None, dict(oim)),
        "monthly list (lawyer)": lambda: ("GET", "/route/monthly-list", None, web("lawyer_ctg")),
        "shelters page": lambda: ("GET", "/route/shelters", None, web("sw_ctg")),
    }
