"""The printable case summary (PDF) for a professional's file: only the sections the reader may see.

The PDF is laid out by fpdf2 (never hand-written PDF) with its built-in Helvetica: no font file to ship, and every
Spanish letter is in its Latin-1 range (a rarer character is shown as "?" rather than refused). What it holds comes
from the same readers as the screens — registry.case_summary (by section), the legal follow-up only with the legal
section, the timeline (services.followup.timeline) — so the PDF can never show more than the case page would.
Nothing of its content is logged: the access-log row names the case by code and the sections it showed.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from fpdf import FPDF

from caseapp import audit, authz
from caseapp.labels import label, stage_label
from caseapp.services.casework import legal_of
from caseapp.services.followup.timeline import entries_of, readable_parts
from caseapp.services.primitives import commit_read, load_case_for
from caseapp.services.registry import case_summary
from caseapp.timeutil import today

# Typographic characters of the catalogues that Latin-1 lacks, and their plain equivalents.
_PLAIN = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "—": "-", "–": "-", "…": "...", "·": "-"})


def _latin1(text) -> str:
    text = "" if text is None else str(text)
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def dmy(value) -> str:
    """dd/mm/aaaa, the one date format of the summary (a date kept as ISO text is read first)."""
    if isinstance(value, str) and value:
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else "-"


class _Document(FPDF):
    def __init__(self, code: str):
        super().__init__(format="A4")
        self.code = code
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)
        self.set_title(_latin1(_("Case summary %(code)s", code=code)))
        self.set_creator("Ruta")
        self.flags = ""  # the safety flags in force, repeated at the foot of every page

    def footer(self):
        if self.flags:
            self.set_y(-17)
            self.set_font("Helvetica", "B", 8)
            self.cell(0, 5, _latin1(_("Safety flags") + ": " + self.flags), align="C")
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 6, _latin1(_("Confidential: data of a victim of trafficking. Case %(code)s - page %(page)s",
                                  code=self.code, page=self.page_no())), align="C")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.multi_cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=10)

    def fact(self, name: str, value) -> None:
        width = 62
        self.set_font("Helvetica", "B", 10)
        self.cell(width, 6, _latin1(name))
        self.set_font("Helvetica", size=10)
        self.multi_cell(0, 6, _latin1(value if value not in (None, "") else "-"), new_x="LMARGIN", new_y="NEXT")

    def line_of(self, text: str) -> None:
        self.multi_cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")


def _summary(pdf: _Document, s: dict, case) -> None:
    pdf.heading(_("Summary"))
    status = label("status", s["status"])
    if s.get("closure_reason"):
        status += " - " + label("closure", s["closure_reason"])
    pdf.fact(_("Status"), status)
    pdf.fact(_("Entity"), f"{s['owner_entity_name']} ({s['owner_entity']})")
    pdf.fact(_("Victim status"), label("victim_status", s["victim_status"]))
    pdf.fact(_("Identified on"), dmy(s["identified_on"]))
    pdf.fact(_("Identification source"), label("identification_source", s["identification_source"]))
    pdf.fact(_("Linked to the programme on"), dmy(s["linked_on"]) if s["linked_on"] else _("Not linked"))
    if s["intake_on"]:
        pdf.fact(_("Immediate assistance from"), dmy(s["intake_on"]))
    if s["immediate_closed_on"]:
        pdf.fact(_("Mediate assistance from"), dmy(s["immediate_closed_on"]))
    if s["closed_on"]:
        pdf.fact(_("Closed on"), dmy(s["closed_on"]))
    pdf.fact(_("Trafficking"), label("trafficking_scope", s["trafficking_scope"]))
    pdf.fact(_("Purposes of exploitation"), "; ".join(p["label"] for p in s["exploitation_purposes"]) or "-")
    pdf.fact(_("Methods of control"), "; ".join(label("control_method", m) for m in s["control_methods"]) or "-")
    if s["erased"]:
        pdf.line_of(_("The identity of this victim was erased. Her statistical data and the case history remain."))


def _identity(pdf: _Document, s: dict) -> None:
    i = s.get("identity")
    if not i:
        return
    pdf.heading(_("Identity"))
    pdf.fact(_("Name"), " ".join(v for v in (i.get("given_names"), i.get("family_names")) if v) or "-")
    doc_type = i.get("document_type")
    pdf.fact(_("Document"), f"{label('document_type', doc_type)} {i.get('document_number') or ''}"
             if doc_type and doc_type != "NONE" else _("No document"))
    pdf.fact(_("Date of birth"), dmy(i.get("birth_date")) if i.get("birth_date") else "-")
    pdf.fact(_("Phone"), i.get("phone"))
    pdf.fact(_("Address"), i.get("address"))
    pdf.fact(_("Contact person"), i.get("contact_person"))


def _account(pdf: _Document, s: dict) -> None:
    a = s.get("account")
    if not a or not (a.get("narrative") or a.get("declined_reasons")):
        return
    pdf.heading(_("Account of events"))
    if a.get("narrative"):
        pdf.line_of(a["narrative"])
    if a.get("declined_reasons"):
        pdf.fact(_("Her reasons for declining assistance"), a["declined_reasons"])


def _consents(pdf: _Document, consents) -> None:
    pdf.heading(_("Consents"))
    if not consents:
        pdf.line_of(_("No consent recorded."))
    for c in consents:
        what = label("consent_kind", c.kind) + (f" ({c.entity.code})" if c.entity is not None else "")
        given = _("given on %(date)s", date=dmy(c.given_on))
        withdrawn = _("withdrawn on %(date)s", date=dmy(c.withdrawn_on)) if c.withdrawn_on else ""
        pdf.line_of(f"- {what}: {given}" + (f"; {withdrawn}" if withdrawn else ""))


def _safety(pdf: _Document, case) -> None:
    """The safety flags in force, first: every reader of the case sees them (never their reasons), on paper too."""
    if not case.safety_flags:
        return
    pdf.heading(_("Safety flags"))
    pdf.flags = "; ".join(label("safety_flag", f.kind) for f in case.safety_flags)
    for f in case.safety_flags:
        named = f.professional.display_name or f.professional.username if f.professional else None
        pdf.line_of("- " + label("safety_flag", f.kind) + (f": {named}" if named else ""))


def _legal(pdf: _Document, case) -> None:
    view = legal_of(case)
    pdf.heading(_("Legal follow-up"))
    for proc in view.proceedings:
        pdf.fact(label("proceeding_kind", proc.kind), stage_label(proc.kind, proc.stage))
        if proc.kind == "criminal":
            pdf.fact(_("Legal representation"), label("representation", proc.representation))
            pdf.fact(_("Complaint filed on"), dmy(proc.complaint_filed_on) if proc.complaint_filed_on else "-")
    for event in view.events:
        title = event.title or label("event_kind", event.kind)
        outcome = f" - {event.outcome}" if event.outcome else ""
        following = " - " + _("next hearing %(date)s", date=dmy(event.next_on)) if event.next_on else ""
        pdf.line_of(f"- {dmy(event.on)}: {title}{outcome}{following}")
    for m in view.measures:
        decided = f" ({dmy(m.decided_on)})" if m.decided_on else ""
        ended = f" ({dmy(m.ended_on)})" if m.ended_on else ""
        pdf.line_of(f"- {label('protection', m.kind)}: {label('protection_status', m.status)}{ended or decided}; "
                    + _("requested on %(date)s", date=dmy(m.requested_on)))
    if not view.proceedings and not view.events and not view.measures:
        pdf.line_of(_("No legal follow-up recorded."))


def _timeline(pdf: _Document, entries) -> None:
    pdf.heading(_("Timeline"))
    if not entries:
        pdf.line_of(_("Nothing recorded yet."))
    for entry in entries:
        pdf.line_of(f"{dmy(entry.on)}  {entry.text}")


def download_headers(name: str) -> dict:
    """How every path answers the PDF: a download (never shown inline), kept by no browser cache or proxy."""
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
            "Pragma": "no-cache", "X-Content-Type-Options": "nosniff"}


def case_summary_pdf(actor, code: str) -> tuple[str, bytes]:
    """(file name, PDF bytes) of the case's summary for `actor`, with only what she may see; the download is logged
    by case code and the sections it showed."""
    case = load_case_for(actor, code)
    parts = readable_parts(actor, case)
    summary = case_summary(actor, case)
    entries = entries_of(actor, case, parts)
    pdf = _Document(case.code)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 9, _latin1(_("Case summary %(code)s", code=case.code)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.line_of(_("Printed on %(date)s by %(user)s. Only the sections this reader may see: %(sections)s.",
                  date=dmy(today()), user=actor.username,
                  sections=", ".join(label("section", s) for s in sorted(parts) if s in authz.ALL_SECTIONS)))
    _safety(pdf, case)
    _summary(pdf, summary, case)
    _identity(pdf, summary)
    _account(pdf, summary)
    _consents(pdf, authz.consents_seen_by(actor, case))
    if "legal" in parts:  # authz: the legal section is read by whoever has it
        _legal(pdf, case)
    _timeline(pdf, entries)
    audit.record("case.summary.pdf", case, actor=actor, detail={"sections": sorted(parts)})
    commit_read()
    return f"resumen-{case.code}.pdf", bytes(pdf.output())
