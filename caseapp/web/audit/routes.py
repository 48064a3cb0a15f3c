"""The auditor's console: the filtered access log, CSV export, per-case access history, alerts, thresholds.

Views are thin: parse the query string or form, call one service (which checks permission and writes the
access-log row for the view itself), render. Nothing here ever reads a victim: only users, entities, actions
and case codes.
"""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.authz import action_required, role_required
from caseapp.errors import Conflict, Invalid
from caseapp.services.audit import alerts as alert_service
from caseapp.services.audit import console as audit_console
from caseapp.timeutil import utcnow
from caseapp.web import flow
from caseapp.web.audit import bp, rows
from caseapp.web.audit.forms import CaseLookupForm, FilterForm, PeriodForm, ThresholdsForm

# The rows of a log table and the instant format, for the templates (alerts show first and last instants too).
bp.add_app_template_filter(rows.audit_time, "audit_time")
bp.add_app_template_global(rows.audit_rows, "audit_rows")


def _attach(form, error: Invalid) -> None:
    flow.attach_errors(form, error)


@bp.route("/")
@action_required("audit.read")
def console():
    form = FilterForm(formdata=request.args)
    try:
        filters, page = audit_console.read_page(current_user, request.args)
    except Invalid as error:
        _attach(form, error)
        if "cursor" in error.field_errors:
            flash(error.message, "error")
        return render_template("audit/console.html", form=form, page=None, filters=None), 422
    return render_template("audit/console.html", form=form, page=page, filters=filters)


@bp.route("/export.csv")
@action_required("audit.read")
def export():
    try:
        filters = audit_console.parse_filters(request.args)
    except Invalid as error:
        form = FilterForm(formdata=request.args)
        _attach(form, error)
        return render_template("audit/console.html", form=form, page=None, filters=None), 422
    chunks = audit_console.export_csv(current_user, filters)
    name = f"bitacora-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(stream_with_context(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/cases")
@role_required("auditor", "coordinator")
def case_lookup():
    form = CaseLookupForm(formdata=request.args)
    if request.args and form.validate():
        return redirect(url_for("audit.case_history", code=form.code.data.strip().upper()))
    return render_template("audit/case_lookup.html", form=form)


@bp.route("/cases/<code>")
@role_required("auditor", "coordinator")
def case_history(code):
    history = audit_console.case_history(current_user, code, request.args.get("cursor") or None)
    return render_template("audit/case_history.html", history=history)


@bp.route("/alerts")
@action_required("audit.read")
def alerts():
    form = PeriodForm(formdata=request.args)
    try:
        period = audit_console.parse_filters({"since": request.args.get("since"), "until": request.args.get("until")})
    except Invalid as error:
        _attach(form, error)
        return render_template("audit/alerts.html", form=form, alerts=None, thresholds=None), 422
    found, values = alert_service.alerts_for(current_user, period.since, period.until)
    return render_template("audit/alerts.html", form=form, alerts=found, thresholds=values)


@bp.route("/alerts/thresholds", methods=["GET", "POST"])
@action_required("admin.manage")
def thresholds():
    values, version = alert_service.thresholds()
    form = ThresholdsForm(data={**values, "weekend_is_off_hours": bool(values["weekend_is_off_hours"]),
                                "version": version})
    status = 200
    if form.validate_on_submit():
        data = {key: form[key].data for key in alert_service.LIMITS}
        data["weekend_is_off_hours"] = int(bool(form.weekend_is_off_hours.data))
        try:
            alert_service.update_thresholds(current_user, data, form.version.data or 0)
        except Invalid as error:
            _attach(form, error)
            status = 422
        except Conflict:
            flash(_("Another administrator changed the thresholds while you were editing them. Nothing was saved: "
                    "review the current values and try again."), "error")
            values, version = alert_service.thresholds()
            fresh = ThresholdsForm(formdata=None, data={
                **values, "weekend_is_off_hours": bool(values["weekend_is_off_hours"]), "version": version})
            return render_template("audit/thresholds.html", form=fresh), 409
        else:
            flash(_("Alert thresholds saved."), "success")
            return redirect(url_for("audit.thresholds")), 303
    elif request.method == "POST":
        status = 422
    return render_template("audit/thresholds.html", form=form), status
