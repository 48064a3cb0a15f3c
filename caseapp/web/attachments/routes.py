"""Thin views over services.attachments: the upload form posts here and comes back to the case page; a download
answers the file with the API's headers (one response builder for both)."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, SubmitField
from wtforms.validators import InputRequired

from caseapp.authz import action_required, role_required
from caseapp.errors import Conflict, Invalid
from caseapp.labels import choices
from caseapp.models.accounts import CASE_ROLES
from caseapp.services import attachments
from caseapp.services.attachments.rules import MB, ceiling
from caseapp.services.primitives import abandon_write, expect_once
from caseapp.web import blank_forms, flow
from caseapp.web.attachments import bp

case_roles_required = role_required(*CASE_ROLES)


class UploadForm(FlaskForm):
    kind = SelectField(_l("Kind of document"), validators=[InputRequired()])
    file = FileField(_l("File (PDF, JPEG or PNG)"))
    submit = SubmitField(_l("Attach the document"))


class LimitForm(FlaskForm):
    megabytes = IntegerField(_l("Largest attachment, in MB"), validators=[InputRequired()])
    version = HiddenField()
    submit = SubmitField(_l("Save the limit"))


def upload_form(kinds) -> UploadForm:
    form = UploadForm(formdata=None, prefix="att")
    form.kind.choices = choices("attachment_kind", kinds)
    return form


# The upload form's fields, drawn blank once per language, kinds and limit (caseapp.web.blank_forms).
_UPLOAD_FIELDS = blank_forms.fragment("attachments/_upload_fields.html", lambda kinds, limit_mb: upload_form(kinds))


@bp.app_context_processor
def attachment_block():
    """`case_attachments(case)` for the case page's include: what the reader may see and which kinds she may add
    (the page itself read the case, and logged it)."""

    def case_attachments(case):
        reader = current_user._get_current_object()  # asked once, not through the proxy at each of her rules
        kinds = attachments.addable_kinds(reader, case)
        drawn = bool(kinds) and not case.victim.erased  # the upload form, which says the size limit
        rows, limit = attachments.case_block(reader, case, with_limit=drawn)
        return {"rows": rows, "kinds": tuple(kinds), "upload_fields": _UPLOAD_FIELDS if drawn else None,
                "limit_mb": round(limit[0] / MB, 1) if limit else None}

    return {"case_attachments": case_attachments}


@bp.route("/cases/<code>", methods=["POST"])
@case_roles_required
def upload(code):
    # No form validation before the service: it says 404, 403 or what is wrong with the file, in that order, as
    # for the API (the CSRF token was checked before the view).
    sent = request.files.get("att-file")
    try:
        expect_once(current_user, request.form.get("att-submission"))
        attachments.upload(current_user, code, kind=request.form.get("att-kind"),
                           data=sent.read() if sent else None, filename=sent.filename if sent else None)
    except (Invalid, Conflict) as error:
        abandon_write()
        flow.flash_refusal(error)  # the page redirects: every message is a flash, the general one first
    else:
        flash(_("Document attached and encrypted."), "success")
    return redirect(url_for("cases.detail", code=code) + "#attachments-title")


@bp.route("/cases/<code>/<int:attachment_id>")
@case_roles_required
def download(code, attachment_id):
    found = attachments.download(current_user, code, attachment_id)
    return Response(found.data, mimetype=found.media_type, headers=found.headers)


@bp.route("/admin/limit", methods=["GET", "POST"])
@action_required("admin.manage")
def limit():
    current, version = attachments.size_limit()
    form = LimitForm(data={"megabytes": max(1, current // MB), "version": str(version)})
    status = 200
    if form.is_submitted():
        form = LimitForm()
        outcome = flow.submit(form, lambda f: attachments.set_size_limit(current_user, f.megabytes.data,
                                                                          f.version.data),
                              success=_("Attachment size limit saved."))
        if outcome.ok:
            return redirect(url_for(".limit"))
        status = outcome.status
    return render_template("attachments/limit.html", form=form, ceiling_mb=ceiling() // MB), status
