"""Case registry screens: list and search, registration, detail, edit, consents, status, erasure, catalogue.

Views are thin: parse the form, call one service (which checks permission with authz and writes the
access log), then flash or render. Identity never goes into a URL, a flash message or a redirect:
searches are POSTs and cases are named by their code.
"""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from caseapp import authz, crypto
from caseapp.authz import action_required, role_required
from caseapp.errors import Conflict, Invalid
from caseapp.extensions import db
from caseapp.models.accounts import CASE_ROLES
from caseapp.models.cases import CASE_STATUSES
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.services import referrals, route
from caseapp.services import registry as case_service
from caseapp.services import registry as catalogues
from caseapp.services import registry as consent_service
from caseapp.services.registry import erasure as erasure_service
from caseapp.timeutil import today
from caseapp.web import blank_forms, flow
from caseapp.web.cases import bp
from caseapp.web.cases.forms import (
    CLOSURE_LABELS,
    CONSENT_KIND_LABELS,
    CONSENT_METHOD_LABELS,
    ERASURE_REASON_LABELS,
    OPTIONS,
    STATUS_LABELS,
    ChildReferralForm,
    ClosePurposeForm,
    EditForm,
    ErasureDecisionForm,
    ErasureRejectForm,
    ErasureRequestForm,
    GiveConsentForm,
    PurposeForm,
    RegistrationForm,
    SearchForm,
    StatusFilterForm,
    StatusForm,
    WithdrawConsentForm,
    choices,
    country_name,
    purpose_label,
)

# One-time tokens of registration forms already sent, kept in the session (codes only, never identity).
SENT_FORMS_KEY = "cases_sent_forms"
SENT_FORMS_KEPT = 20
MAX_CURSOR_LEN = 64
NEXT_STATUS = {s: CASE_STATUSES[i + 1] for i, s in enumerate(CASE_STATUSES[:-2])}

case_roles_required = role_required(*CASE_ROLES)


def stale_message() -> str:
    return _("Someone else changed this case while you were editing it. Nothing was saved: "
             "open the case again to see the changes.")


def labels() -> dict:
    return {"status": STATUS_LABELS, "closure": CLOSURE_LABELS, "consent_kind": CONSENT_KIND_LABELS,
            "consent_method": CONSENT_METHOD_LABELS}


@bp.context_processor
def case_labels():
    """Spanish labels of the value lists, for the registry's templates."""
    return {"options": OPTIONS, "purpose_label": purpose_label, "country_name": country_name}


# --- list and search -------------------------------------------------------------------------------------


@bp.route("/")
@action_required("case.search")
def index():
    filter_form = StatusFilterForm(formdata=request.args)
    valid = filter_form.validate()
    status = filter_form.status.data if valid and filter_form.status.data else None
    cursor = request.args.get("cursor") or None
    if cursor is not None and len(cursor) > MAX_CURSOR_LEN:
        cursor = None
    try:
        cases, next_cursor = case_service.list_cases(current_user, cursor=cursor, status=status)
    except Invalid:
        flash(_("That page of the list no longer exists; showing the first page."), "warning")
        cases, next_cursor = case_service.list_cases(current_user, status=status)
    # a valid filter and the search are drawn blank, from memory (a refused filter with its error)
    return _list_page(cases=cases, next_cursor=next_cursor, status=status, paged=cursor is not None,
                      filter_form=None if valid else filter_form, chosen=filter_form.status.data, search_form=None,
                      results=None)


def _list_page(**values):
    return render_template("cases/index.html", labels=labels(), search_fields=_SEARCH_FIELDS,
                           filter_fields=_FILTER_FIELDS, **values)


# The list page's two forms, drawn blank once per language (the filter, per status chosen: six keys, "" for all) (blank_forms).
_SEARCH_FIELDS = blank_forms.fragment("cases/_search_fields.html",
                                      lambda: SearchForm(formdata=None, meta={"csrf": False}))
_FILTER_FIELDS = blank_forms.fragment("cases/_filter_fields.html",
                                      lambda status: StatusFilterForm(formdata=None, status=status), size=12)


@bp.route("/search", methods=["GET", "POST"])
@action_required("case.search")
def search():
    if request.method == "GET":
        return redirect(url_for(".index"))
    form = SearchForm()
    results = None
    status = 200
    if form.validate():
        try:
            results = case_service.search_cases(current_user, **form.criteria())
        except Invalid as err:
            for name, messages in err.field_errors.items():
                if name in form._fields:
                    form[name].errors = list(form[name].errors) + [str(m) for m in messages]
                else:
                    form.form_errors.extend(str(m) for m in messages)
            status = 422
    else:
        status = 422
    return _list_page(cases=None, next_cursor=None, status=None, paged=False, filter_form=None, chosen=None,
                      search_form=form, results=results), status


# --- registration --------------------------------------------------------------------------------------


def _posted_date(name: str) -> date | None:
    try:
        return date.fromisoformat((request.form.get(name) or "")[:10])
    except ValueError:
        return None


def _sent_forms() -> dict:
    sent = session.get(SENT_FORMS_KEY)
    return sent if isinstance(sent, dict) else {}


def _remember_sent_form(token: str, code: str) -> None:
    sent = _sent_forms()
    sent[token] = code
    while len(sent) > SENT_FORMS_KEPT:
        sent.pop(next(iter(sent)))
    session[SENT_FORMS_KEY] = sent


@bp.route("/new", methods=["GET", "POST"])
@action_required("case.create")
def new():
    on = _posted_date("identified_on") or today()
    form = RegistrationForm(purposes=catalogues.purposes_in_force(on))
    if request.method == "GET":
        form.identified_on.data = today()
    if not form.form_token.data or len(form.form_token.data) > 64:
        form.form_token.data = crypto.new_token(16)
    duplicates = None
    withheld = False
    matched_on: list[str] = []
    status = 200
    if request.method == "POST":
        already = _sent_forms().get(form.form_token.data)
        if already:
            # A second submission of the same form (double click, back button, reload): no second case.
            flash(_("This form had already been sent: case %(code)s was registered only once.", code=already), "info")
            return redirect(url_for(".detail", code=already))
        if form.validate():
            try:
                case = case_service.register_case(
                    current_user, form.case_data(), confirm_duplicate=bool(form.confirm_duplicate.data),
                    idempotency_key=form.form_token.data,
                )
            except case_service.PossibleDuplicate as dup:
                duplicates = dup.hints or []
                withheld = dup.withheld
                matched_on = dup.matched_on
                form.confirm_duplicate.data = False
                status = 409
            except Invalid as err:
                form.add_service_errors(err.field_errors)
                if not err.field_errors and err.message:
                    form.form_errors.append(err.message)
                status = 422
            else:
                _remember_sent_form(form.form_token.data, case.code)
                if case.replayed:
                    flash(_("This form had already been sent: case %(code)s was registered only once.",
                            code=case.code), "info")
                    return redirect(url_for(".detail", code=case.code))
                flash(_("Case %(code)s registered.", code=case.code), "success")
                if case.child_referral is not None:
                    flash(_("Child victim: the mandatory referral to %(entity)s (child protection) was sent.",
                            entity=case.child_referral.to_entity.code), "warning")
                elif case.is_child:
                    flash(_("Child victim: the referral to the child-protection authority is mandatory, and no "
                            "child-protection entity is active to receive it. Ask an administrator."), "warning")
                return redirect(url_for(".detail", code=case.code))
        else:
            status = 422
    return render_template("cases/new.html", form=form, duplicates=duplicates, withheld=withheld,
                           matched_on=matched_on), status


# --- detail, edit and actions on a case -------------------------------------------------------------------


@bp.route("/<code>")
@case_roles_required
def detail(code):
    # drawn, then logged: one transaction
    return case_service.get_case(current_user, code, draw=_case_page, read=case_service.CASE_PAGE)


def _case_page(case) -> str:
    summary = case_service.case_summary(current_user, case)
    awaits = referrals.awaits_child_protection(case)
    return render_template(
        "cases/detail.html", case=case, summary=summary, purposes=case_service.shown_purposes(case), labels=labels(),
        next_status=NEXT_STATUS.get(case.status),
        awaits_child_protection=awaits, child_referral=referrals.mandatory_referral(case) if awaits else None,
        sharing_entities=_sharing_entities(case), consent_fields=_CONSENT_FIELDS, status_fields=_STATUS_FIELDS,
        closure_fields=_CLOSURE_FIELDS, erasure_fields=_ERASURE_FIELDS,
    )  # (each consent's withdraw button is three hidden inputs in the template: no form object is built for it)


def _sharing_entities(case) -> tuple | None:
    """The entities the consent form lists, as (code, name) pairs, for a user who may record a consent on this
    case; None for anyone else (the page then draws no consent form)."""
    if not authz.can(current_user, "case.consent", case):
        return None
    return tuple((code, name) for code, name in consent_service.sharing_entities(case))


# The case page's action forms, drawn blank once per language and key (caseapp.web.blank_forms).
# The consent form's key is the entities it lists (every active one but the case's owner): one drawing per owning
# entity a worker's readers belong to, and language; 64 of them at ~100 bytes an entity.
_CONSENT_FIELDS = blank_forms.fragment("cases/_consent_fields.html",
                                       lambda entities: GiveConsentForm(formdata=None, entities=entities), size=64)
_STATUS_FIELDS = blank_forms.fragment("cases/_status_fields.html", lambda next_status: StatusForm(formdata=None))
_CLOSURE_FIELDS = blank_forms.fragment("cases/_closure_fields.html", lambda: StatusForm(formdata=None))
_ERASURE_FIELDS = blank_forms.fragment("cases/_erasure_fields.html",
                                       lambda: _erasure_request_form(formdata=None))


def _edit_data(case) -> dict:
    victim = case.victim
    names = EditForm.STATISTICS if victim.erased else EditForm.IDENTITY + EditForm.STATISTICS
    data = {name: getattr(victim, name) for name in names}
    data.setdefault("birth_date", None)
    try:
        data["birth_date"] = date.fromisoformat(data["birth_date"]) if data["birth_date"] else None
    except ValueError:
        data["birth_date"] = None
    data.update(
        identified_on=case.identified_on, identification_source=case.identification_source,
        exploitation_purposes=[p.code for p in case.purposes], trafficking_scope=case.trafficking_scope,
        control_methods=case.control_method_list, victim_status=case.victim_status, version=str(case.version),
    )
    data.update(case_service.places_of(case))
    return data


def _edit_purposes(case, on: date):
    """The purposes offered on edit: those in force on the identification date, plus the case's own."""
    offered = catalogues.purposes_in_force(on)
    codes = {p.code for p in offered}
    return offered + [p for p in case.purposes if p.code not in codes]


@bp.route("/<code>/edit", methods=["GET", "POST"])
@action_required("case.create")
def edit(code):
    case = case_service.get_case(current_user, code)
    authz.require(current_user, "case.update", case)
    on = (_posted_date("identified_on") if request.method == "POST" else None) or case.identified_on
    purposes = _edit_purposes(case, on)
    if request.method == "GET":
        form = EditForm(formdata=None, data=_edit_data(case), purposes=purposes)
        if case.victim.erased:
            form.without_identity()
        return render_template("cases/edit.html", form=form, case=case, stale=False)
    form = EditForm(purposes=purposes)
    if case.victim.erased:
        form.without_identity()
    status = 422
    stale = False
    if form.validate():
        try:
            case_service.update_case(current_user, code, form.case_data(), version=int(form.version.data))
        except Conflict:
            stale, status = True, 409
        except Invalid as err:
            form.add_service_errors(err.field_errors)
            if not err.field_errors and err.message:
                form.form_errors.append(err.message)
        else:
            flash(_("Case %(code)s updated.", code=code), "success")
            return redirect(url_for(".detail", code=code))
    return render_template("cases/edit.html", form=form, case=case, stale=stale), status


@bp.route("/<code>/status", methods=["POST"])
@action_required("case.create")
def change_status(code):
    outcome = flow.act(StatusForm(), lambda f: route.change_status(
        current_user, code, f.status.data, version=f.version.data, reason=f.reason.data or None, on=f.on.data,
        complaint_on=f.complaint_on.data, acta_on=f.acta_on.data),
        success=_("Status of case %(code)s changed.", code=code))
    if outcome.ok:
        flow.flash_ended_stay(outcome.result)
    return redirect(url_for(".detail", code=code))


@bp.route("/<code>/consents", methods=["POST"])
@action_required("case.create")
def give_consent(code):
    # Every active entity is a valid choice here (give_consent refuses the case's owner with its own message). The
    # list sits on the form for every kind and says it is only for sharing: another kind does not read it.
    flow.act(GiveConsentForm(entities=consent_service.sharing_entities()), lambda f: consent_service.give_consent(
        current_user, code, f.kind.data, method=f.method.data, given_on=f.given_on.data,
        entity_code=(f.entity_code.data or None) if f.kind.data == "sharing" else None,
        representative=(f.representative.data or "").strip() or None), success=_("Consent recorded."))
    return redirect(url_for(".detail", code=code))


@bp.route("/<code>/consents/withdraw", methods=["POST"])
@action_required("case.create")
def withdraw_consent(code):
    flow.act(WithdrawConsentForm(), lambda f: consent_service.withdraw_consent(
        current_user, code, f.consent_id.data, version=f.version.data),
        success=_("Consent withdrawn; the record is kept as proof."))
    return redirect(url_for(".detail", code=code))


@bp.route("/<code>/child-referral", methods=["POST"])
@case_roles_required
def send_child_referral(code):
    outcome = flow.act(ChildReferralForm(), lambda f: referrals.send_child_referral(current_user, code))
    if outcome.ok:
        flash(_("Child victim: the mandatory referral to %(entity)s (child protection) was sent.",
                entity=outcome.result.to_entity.code), "success")
    return redirect(url_for(".detail", code=code))


# --- erasure -----------------------------------------------------------------------------------------------


def _erasure_request_form(**kwargs) -> ErasureRequestForm:
    form = ErasureRequestForm(prefix="erasure", **kwargs)
    form.reason.choices = choices(erasure_service.ERASURE_REASONS, "erasure_reason", blank=_("— Choose —"))
    return form


@bp.route("/<code>/erasure", methods=["POST"])
@action_required("case.create")
def request_erasure(code):
    flow.act(_erasure_request_form(), lambda f: erasure_service.request_erasure(current_user, code, f.reason.data),
             success=_("Erasure of the identity of case %(code)s requested; an administrator must approve it.",
                       code=code))
    return redirect(url_for(".detail", code=code))


@bp.route("/admin/erasure-requests")
@action_required("erasure.approve")
def erasure_requests():
    pending = erasure_service.pending_requests(current_user)
    return render_template(
        "cases/erasure_requests.html", pending=pending, decide_form=None, decide_id=None,
        blank_decide_form=ErasureDecisionForm(formdata=None), erasure_reasons=ERASURE_REASON_LABELS,
    )


@bp.route("/admin/erasure-requests/<int:request_id>/approve", methods=["POST"])
@action_required("erasure.approve")
def approve_erasure(request_id):
    form = ErasureDecisionForm()
    pending = {r.id: r for r in erasure_service.pending_requests(current_user)}
    req = pending.get(request_id)
    if req is None:
        abort(404)
    if form.validate():
        if form.confirm_code.data.strip().upper() != req.case.code.upper():
            form.confirm_code.errors = [_("The code you typed is not the code of this case. Nothing was erased.")]
        else:
            try:
                erasure_service.approve_erasure(current_user, request_id)
            except (Conflict, Invalid) as err:
                flow.flash_error(err)
            else:
                flash(_("The identity of case %(code)s was erased.", code=req.case.code), "success")
            return redirect(url_for(".erasure_requests"))
    return render_template(
        "cases/erasure_requests.html", pending=list(pending.values()), decide_form=form, decide_id=request_id,
        blank_decide_form=ErasureDecisionForm(formdata=None), erasure_reasons=ERASURE_REASON_LABELS,
    ), 422


@bp.route("/admin/erasure-requests/<int:request_id>/reject", methods=["POST"])
@action_required("erasure.approve")
def reject_erasure(request_id):
    flow.act(ErasureRejectForm(), lambda f: erasure_service.reject_erasure(current_user, request_id),
             success=_("Erasure request rejected."))
    return redirect(url_for(".erasure_requests"))


# --- catalogue of purposes of exploitation -----------------------------------------------------------------


def _all_purposes():
    # The catalogue is public reference data (no case data): read directly for the admin listing.
    return list(db.session.scalars(
        select(ExploitationPurpose).order_by(ExploitationPurpose.sort_order, ExploitationPurpose.valid_from)
    ))


@bp.route("/admin/purposes", methods=["GET", "POST"])
@action_required("admin.manage")
def purposes():
    form = PurposeForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                catalogues.add_purpose(
                    current_user, code=form.code.data.strip(), label_es=form.label_es.data,
                    label_en=form.label_en.data, valid_from=form.valid_from.data, legal_source=form.legal_source.data,
                )
            except Invalid as err:
                flow.flash_error(err, form)
                status = 422
            except Conflict as err:
                form.form_errors.append(err.message or stale_message())
                status = 409
            else:
                flash(_("Purpose %(code)s added.", code=form.code.data.strip()), "success")
                return redirect(url_for(".purposes"))
        else:
            status = 422
    return render_template(
        "cases/purposes.html", purposes=_all_purposes(), form=form, close_form=ClosePurposeForm(formdata=None),
        today=today(),
    ), status


@bp.route("/admin/purposes/close", methods=["POST"])
@action_required("admin.manage")
def close_purpose():
    form = ClosePurposeForm()
    flow.act(form, lambda f: catalogues.retire_purpose(current_user, f.code.data, f.valid_to.data),
             success=_("Purpose %(code)s closed.", code=form.code.data))
    return redirect(url_for(".purposes"))
