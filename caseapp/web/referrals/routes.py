"""Referral screens: the entity's inbox, a referral, sending one, answering, and the coordinator's override."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from caseapp import authz
from caseapp.authz import action_required
from caseapp.errors import Conflict, Invalid
from caseapp.extensions import db
from caseapp.labels import LABELS, label
from caseapp.models.accounts import Entity
from caseapp.models.referrals import SHARED_SECTIONS
from caseapp.services import casework
from caseapp.services import referrals as service
from caseapp.services.primitives import abandon_write, load_case_for
from caseapp.timeutil import today
from caseapp.web import flow
from caseapp.web.referrals import bp
from caseapp.web.referrals.forms import AnswerForm, OverrideForm, SendForm


def _apply(form, error: Invalid) -> None:
    flow.flash_error(error, form)


def _kind_labels() -> dict[str, str]:
    from flask_babel import get_locale

    lang = get_locale().language if get_locale() else None
    return {k.code: k.label(lang) for k in casework.step_kinds(active_only=False)}


@bp.route("/")
@action_required("referral.inbox")
def inbox():
    direction = request.args.get("direction", "incoming")
    if direction not in ("incoming", "outgoing"):
        direction = "incoming"
    shown = service.inbox(current_user, direction, page=request.args.get("page", 1))
    return render_template("referrals/inbox.html", rows=shown.rows, shown=shown, direction=direction, label=label,
                           kinds=_kind_labels())


def _detail_page(referral, status=200, answer_form=None):
    forms = {}
    for name in ("accept", "reject", "complete", "withdraw"):
        f = answer_form if answer_form is not None and answer_form._prefix == f"{name}-" else AnswerForm(
            prefix=name, formdata=None)
        f.version.data = referral.version
        forms[name] = f
    details_visible = authz.referral_details_visible(current_user, referral)
    return render_template("referrals/detail.html", referral=referral, forms=forms, label=label, labels=LABELS,
                           kinds=_kind_labels(), today=today(), details_visible=details_visible,
                           case_readable=authz.can(current_user, "case.read", referral.case)), status


@bp.route("/<int:referral_id>")
@login_required
def detail(referral_id):
    referral = service.view_referral(current_user, referral_id)
    return _detail_page(referral)


# Every answer carries the referral's version (the service refuses one without it): never applied blindly.
ACTIONS = {
    "accept": (lambda r, f: service.accept(current_user, r, version=f.version.data, note=f.note.data),
               lambda: _("Referral accepted: the shared sections of the case are now visible to your entity.")),
    "reject": (lambda r, f: service.reject(current_user, r, version=f.version.data, reason=f.note.data),
               lambda: _("Referral rejected.")),
    "complete": (lambda r, f: service.complete(current_user, r, version=f.version.data, done_on=f.done_on.data,
                                               note=f.note.data),
                 lambda: _("Service recorded on the case; the referral is done.")),
    "withdraw": (lambda r, f: service.withdraw(current_user, r, version=f.version.data, reason=f.note.data),
                 lambda: _("Referral withdrawn.")),
}


@bp.route("/<int:referral_id>/<action>", methods=["POST"])
@login_required
def answer(referral_id, action):
    if action not in ACTIONS:
        from flask import abort

        abort(404)
    referral = service.get_referral(current_user, referral_id)
    form = AnswerForm(prefix=action)
    call, message = ACTIONS[action]
    if not form.validate_on_submit():
        return _detail_page(referral, 422, form)
    try:
        call(referral_id, form)
    except Invalid as error:
        _apply(form, error)
        return _detail_page(service.get_referral(current_user, referral_id), 422, form)
    except Conflict as error:
        flash(error.message, "error")
        return _detail_page(service.get_referral(current_user, referral_id), 409)
    flash(message(), "success")
    return redirect(url_for("referrals.detail", referral_id=referral_id))


def _send_form(case, formdata=True):
    form = SendForm(prefix="ref") if formdata else SendForm(prefix="ref", formdata=None)
    entities = db.session.scalars(select(Entity).where(Entity.active.is_(True), Entity.id != case.owner_entity_id)
                                  .order_by(Entity.code))
    consents = {c.entity_id for c in case.consents if c.kind == "sharing" and c.withdrawn_on is None}
    form.to_entity.choices = [(e.code, f"{e.code} — {e.name}" + ("" if e.id in consents else " " + _("(no consent)")))
                              for e in entities]
    kinds = _kind_labels()
    form.service.choices = [(k.code, kinds[k.code]) for k in casework.step_kinds()]
    form.sections.choices = [(s, label("section", s)) for s in SHARED_SECTIONS]
    if not formdata:
        form.sections.data = ["summary"]
    return form


@bp.route("/cases/<code>/new", methods=["GET", "POST"])
@login_required
def new(code):
    case = service.open_send_form(current_user, code) if request.method == "GET" else load_case_for(
        current_user, code, "case.refer")
    form = _send_form(case, formdata=request.method == "POST")
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                flow.expect_sent_once(form)
                referral = service.send(current_user, code, to_entity=form.to_entity.data, service=form.service.data,
                                        reason=form.reason.data, sections=form.sections.data, due_on=form.due_on.data)
            except Invalid as error:
                abandon_write()
                _apply(form, error)
            except Conflict as error:
                abandon_write()
                if error.rule == "already_submitted":  # a double click: the first one was sent
                    flash(error.message, "warning")
                    return redirect(url_for("route.case_route", code=case.code) + "#referrals")
                flash(error.message, "error")
                return render_template("referrals/new.html", form=form, case=case), 409
            else:
                flash(_("Referral sent to %(entity)s.", entity=referral.to_entity.code), "success")
                return redirect(url_for("route.case_route", code=case.code) + "#referrals")
        return render_template("referrals/new.html", form=form, case=case), 422
    return render_template("referrals/new.html", form=form, case=case)


@bp.route("/override", methods=["GET", "POST"])
@login_required
def override():
    if not current_user.has_role("coordinator"):
        authz.require(current_user, "referral.override_consent", None)
    form = OverrideForm()
    form.entity.choices = [(e.code, f"{e.code} — {e.name}") for e in db.session.scalars(
        select(Entity).where(Entity.active.is_(True), Entity.id != current_user.entity_id).order_by(Entity.code))]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                service.record_override(current_user, form.case.data, entity=form.entity.data, reason=form.reason.data)
            except Invalid as error:
                _apply(form, error)
            else:
                flash(_("Override recorded. A professional of your entity can now send the referral."), "success")
                return redirect(url_for("referrals.override"))
    return render_template("referrals/override.html", form=form), status
