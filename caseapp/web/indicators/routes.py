"""Indicator screens: the coordinator's dashboard, product sheets, the policy follow-up report, anonymised counts,
downloadable files, and the admin screens for the suppression threshold and action-plan import.

Views parse the request, call one service and render; every count shown comes suppressed from the services.
"""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from caseapp.authz import action_required
from caseapp.errors import Invalid
from caseapp.labels import LABELS, label
from caseapp.models import territory as territories
from caseapp.services import indicators as ind
from caseapp.services.indicators import dashboard_cache, exports, stats
from caseapp.services.indicators import plans as plan_service
from caseapp.services.indicators.dimensions import DEPARTMENT_DIMS, UNKNOWN_VALUE
from caseapp.services.registry import COUNTRY_CODES
from caseapp.web import flow
from caseapp.web.indicators import bp
from caseapp.web.indicators import charts as ch
from caseapp.web.indicators.critical_points import critical_points
from caseapp.web.indicators.forms import (
    PlanConfirmForm,
    PlanUploadForm,
    ProductForm,
    SuppressionForm,
    ValueForm,
)


@bp.app_template_filter("co_number")
def co_number(value):
    return ch.number(value)


@bp.app_template_filter("co_percent")
def co_percent(value):
    return ch.percent(value)


@bp.context_processor
def helpers():
    return {"light_labels": LABELS["traffic_light"], "dim_labels": LABELS["stats_dimension"],
            "value_label": stats.value_label, "formulas": ind.FORMULAS, "filter_options": _filter_options}


def _year_arg() -> int:
    return ind.parse_year(request.args.get("year"))


def _download(result) -> Response:
    data, mimetype, filename = result
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- dashboard -------------------------------------------------------------------------------------------------


def _breakdown_chart(table: stats.Table, idx: int) -> ch.Chart:
    dim = table.by[0]
    rows = [(stats.value_label(dim, r.values[dim]),
             [(None if r.suppressed else r.count, "bar-count", str(stats.RESERVED) if r.suppressed else None)])
            for r in table.rows]
    title = _("By %(dim)s", dim=label("stats_dimension", dim).lower())
    return ch.hbars(f"breakdown-{idx}", title,
                    _("Bars per category; reserved counts have no bar."), rows)


@bp.route("/")
@action_required("stats.read")
def dashboard():
    body = dashboard_cache.body(current_user, year=_year_arg(), code=request.args.get("product"),
                                policy=request.args.get("policy"), draw=_draw_dashboard)
    return render_template("indicators/dashboard.html", body=body)


def _draw_dashboard(data: dict) -> Markup:
    s = data["status"]
    year_rows = [(_("Achieved in %(year)s", year=data["year"]), [(ch.frac(s.achieved or 0), "bar-achieved", None)]),
                 (_("Target %(year)s", year=data["year"]), [(ch.frac(s.target), "bar-target", None)])]
    if s.year_ideal_so_far is not None:
        year_rows.append((_("Ideal trajectory at the cut-off"), [(ch.frac(s.year_ideal_so_far), "bar-ideal", None)]))
    year_chart = ch.hbars("year", _("Achieved against the target, %(year)s", year=data["year"]),
                          _("The year's achieved value, its target and the ideal so far."), year_rows)
    hist_rows = [(str(p.year), [(ch.frac(p.achieved), "bar-achieved", None if p.achieved is not None else "—"),
                                (ch.frac(p.target), "bar-target", None)]) for p in data["history"]]
    history_chart = ch.hbars("history", _("Achieved and target per year"),
                             _("For each year of the product: achieved (first bar) and target (second bar)."),
                             hist_rows, legend=[("bar-achieved", _("Achieved")), ("bar-target", _("Target"))])
    cum_rows = [(str(p.year), [(ch.frac(p.cumulative), "bar-progress", None if p.cumulative is not None else "—"),
                               (ch.frac(p.ideal), "bar-ideal", None)]) for p in data["history"]]
    cumulative_chart = ch.hbars("cumulative", _("Cumulative progress against the ideal trajectory"),
                                _("For each year: cumulative progress towards the final target and the ideal "
                                  "trajectory."), cum_rows, max_value=1, text=ch.percent,
                                legend=[("bar-progress", _("Cumulative progress")),
                                        ("bar-ideal", _("Ideal trajectory"))])
    breakdown_charts = [(t, _breakdown_chart(t, i)) for i, t in enumerate(data["breakdowns"])]
    critical_table, critical_chart = critical_points(data["critical"], data["year"])
    # a template's output, escaped by Jinja as it was drawn: markup already
    return Markup(render_template(  # noqa: S704
        "indicators/_dashboard_body.html", **data, year_chart=year_chart, history_chart=history_chart,
        cumulative_chart=cumulative_chart, breakdown_charts=breakdown_charts, critical_table=critical_table,
        critical_chart=critical_chart, policies=ind.list_policies(current_user),
        products=ind.list_products(current_user)))


# --- product sheet ---------------------------------------------------------------------------------------------


@bp.route("/products/<path:code>", methods=["GET", "POST"])
@action_required("stats.read")
def product(code: str):
    policy = request.values.get("policy")
    year = _year_arg()
    status = ind.product_progress(current_user, code, year=year, policy=policy)
    form = None
    if ind.can_enter(current_user, status.product) and status.product.formula == "manual":
        form = ValueForm()
        form.period.choices = [(t.period, t.period) for t in status.product.targets]
        existing = {v.period: v for v in status.product.values}
        if request.method == "GET":
            chosen = request.args.get("period") or (status.product.targets[0].period if status.product.targets else "")
            form.period.data = chosen
            if chosen in existing:
                form.value.data = ch.number(existing[chosen].value)
                form.source.data = existing[chosen].source
                form.version.data = existing[chosen].version
        elif form.validate_on_submit():
            try:
                ind.enter_value(current_user, status.product.id, period=form.period.data, value=form.value.data,
                                source=form.source.data, version=form.version.data or 0)
            except Invalid as exc:
                flow.attach_errors(form, exc)
                flash(exc.message, "error")
            else:
                flash(_("Value saved."), "success")
                return redirect(url_for("indicators.product", code=code, policy=policy, year=year))
    elif request.method == "POST":
        return redirect(url_for("indicators.product", code=code, policy=policy, year=year))
    return render_template("indicators/product.html", s=status, product=status.product, form=form, year=year)


# --- policy follow-up report -----------------------------------------------------------------------------------


@bp.route("/policies/<path:code>")
@action_required("stats.read")
def policy(code: str):
    as_of = ind.parse_as_of(request.args.get("as_of"))
    summary = ind.policy_summary(current_user, code, as_of)
    c1 = ch.hbars("chart1", _("Chart 1. Cumulative progress of the policy"),
                  _("Cumulative progress against the final target, and the ideal trajectory."),
                  [(_("Progress"), [(ch.frac(summary.progress), "bar-progress", None)]),
                   (_("Ideal trajectory"), [(ch.frac(summary.ideal_trajectory), "bar-ideal", None)])],
                  max_value=1, text=ch.percent)
    c2 = ch.hbars("chart2", _("Chart 2. Progress up to the current period"),
                  _("Progress against the targets due so far (100 % is on track)."),
                  [(_("Progress to date"), [(ch.frac(summary.progress_to_date), "bar-progress", None)]),
                   (_("Ideal trajectory"), [(1.0, "bar-ideal", None)])], max_value=1, text=ch.percent)
    c3 = ch.hbars("chart3", _("Chart 3. Progress per objective"),
                  _("For each objective: ideal trajectory, progress to date and gap."),
                  [(_("Objective %(code)s", code=o.code), [(1.0, "bar-ideal", None),
                                                             (ch.frac(o.progress_to_date), "bar-progress", None),
                                                             (abs(ch.frac(o.gap_to_date)), "bar-gap",
                                                              ch.percent(o.gap_to_date))])
                   for o in summary.children], max_value=1, text=ch.percent,
                  legend=[("bar-ideal", _("Ideal trajectory")), ("bar-progress", _("Progress")),
                          ("bar-gap", _("Gap"))])
    counts = ind.light_counts(summary.products)
    total = sum(counts.values()) or 1
    c4 = ch.hbars("chart4", _("Chart 4. Share of products per traffic-light colour"),
                  _("Share of the policy's products that are green, yellow and red."),
                  [(label("traffic_light", c), [(counts[c] / total, f"bar-{c}", None)]) for c in ind.LIGHTS],
                  max_value=1, text=ch.percent)
    sectors = ind.by_sector(summary.products)
    c5 = ch.hbars("chart5", _("Chart 5. Products per responsible sector"),
                  _("Number of products of each sector, by traffic-light colour."),
                  [(s["sector"], [(s[c], f"bar-{c}", None) for c in ind.LIGHTS]) for s in sectors],
                  legend=[(f"bar-{c}", label("traffic_light", c)) for c in ind.LIGHTS])
    return render_template("indicators/policy.html", summary=summary, as_of=as_of, charts=[c1, c2, c3, c4, c5],
                           counts=counts, sectors=sectors)


# --- anonymised counts -----------------------------------------------------------------------------------------


def _counts_args() -> dict:
    by = [d for d in (request.args.get("by") or "sex", request.args.get("by2")) if d]
    filters = {d: request.args.get(f"f_{d}") for d in stats.DIMENSIONS if request.args.get(f"f_{d}")}
    return {"by": ",".join(by), "filters": filters, "period": request.args.get("period") or None,
            "unit": request.args.get("unit") or "cases", "basis": request.args.get("basis") or "identified"}


# The dimensions whose values are a closed list: their filter is a select of labels, not a code to type.
FILTER_GROUPS = {"sex": "sex", "trafficking_scope": "trafficking_scope", "age_group": "age_group",
                 "ethnic_group": "ethnic_group", "phase": "stats_phase", "status": "status"}


def _filter_options(dim: str) -> list[tuple[str, str]] | None:
    if dim in ("nationality", "destination_country"):  # "unknown": a nationality (a destination) left blank
        names = sorted(((code, label("nationality", code)) for code in COUNTRY_CODES), key=lambda pair: pair[1])
        return [(UNKNOWN_VALUE, label("nationality", None)), *names]
    if dim in DEPARTMENT_DIMS:
        names = sorted(territories.DEPARTMENTS.items(), key=lambda pair: pair[1])
        return [(UNKNOWN_VALUE, label("stats_missing", UNKNOWN_VALUE)), *names]
    if dim == "recruitment_method":
        return [(code, label(dim, code)) for code in LABELS[dim]]
    group = FILTER_GROUPS.get(dim)
    if group is None:
        return None
    return [(code, label(group, code)) for code in LABELS[group]]


@bp.route("/counts")
@action_required("stats.read")
def counts():
    args = _counts_args()
    error, table, crosstab, chart = None, None, None, None
    try:
        table = stats.cases_table(current_user, args["by"], filters=args["filters"], period=args["period"],
                                  unit=args["unit"], basis=args["basis"])
    except Invalid as exc:
        error = exc.message
    if table is not None:
        if len(table.by) == 1:
            chart = _breakdown_chart(table, 0)
        else:
            crosstab = _crosstab(table)
    return render_template("indicators/counts.html", args=args, table=table, crosstab=crosstab, chart=chart,
                           error=error, dims=stats.DIMENSIONS, filter_dims=_filter_dims())


def _filter_dims() -> list[str]:
    """The dimensions a table may be filtered by: not a period (the period field says it), not a place (published
    by itself over a year only)."""
    return [d for d in stats.DIMENSIONS if d not in stats.TIME_DIMS and d not in stats.YEAR_ALONE_DIMS]


def _crosstab(table: stats.Table) -> dict:
    d1, d2 = table.by
    rows = sorted({r.values[d1] for r in table.rows})
    cols = sorted({r.values[d2] for r in table.rows})
    cells = {(r.values[d1], r.values[d2]): table.shown(r.count, r.suppressed) for r in table.rows}
    margins = {key: table.shown(*value) for key, value in table.margins.items()}
    return {"rows": rows, "cols": cols, "cells": cells, "margins": margins, "d1": d1, "d2": d2}


# --- downloads -------------------------------------------------------------------------------------------------


@bp.route("/reports")
@action_required("stats.read")
def reports():
    return render_template("indicators/reports.html", defaults=exports.default_periods(),
                           products=ind.list_products(current_user), cut_off=exports.data_as_of())


@bp.route("/export/product")
@action_required("stats.read")
def export_product():
    return _download(exports.product_sheet(current_user, request.args.get("code", ""), year=_year_arg(),
                                           policy=request.args.get("policy"),
                                           fmt=request.args.get("format", "xlsx")))


@bp.route("/export/counts")
@action_required("stats.read")
def export_counts():
    args = _counts_args()
    return _download(exports.stats_table(current_user, args["by"], filters=args["filters"], period=args["period"],
                                         unit=args["unit"], basis=args["basis"],
                                         fmt=request.args.get("format", "csv")))


@bp.route("/export/report")
@action_required("stats.read")
def export_report():
    kind, fmt = request.args.get("kind", "yearly"), request.args.get("format", "xlsx")
    if kind == "yearly":
        return _download(exports.yearly_report(current_user, _year_arg(), fmt=fmt))
    return _download(exports.period_report(current_user, kind, request.args.get("period", ""), fmt=fmt))


# --- admin -----------------------------------------------------------------------------------------------------


@bp.route("/admin/suppression", methods=["GET", "POST"])
@action_required("admin.manage")
def suppression():
    form = SuppressionForm()
    if request.method == "GET":
        form.k.data = stats.get_k()
        form.version.data = stats.setting_version()
    elif form.validate_on_submit():
        try:
            stats.set_k(current_user, form.k.data, form.version.data or 0)
        except Invalid as exc:
            form.k.errors = list(form.k.errors) + [exc.message]
        else:
            flash(_("Suppression threshold saved."), "success")
            return redirect(url_for("indicators.suppression"))
    return render_template("indicators/suppression.html", form=form, k=stats.get_k())


@bp.route("/admin/plans", methods=["GET", "POST"])
@action_required("admin.manage")
def plans():
    form = PlanUploadForm()
    confirm = PlanConfirmForm()
    preview, error = None, None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            preview = plan_service.preview_file(current_user, upload.read(plan_service.MAX_BYTES + 1),
                                                upload.filename or "")
        except Invalid as exc:
            error = exc.message
        else:
            confirm.payload.data = preview.payload()
            confirm.filename.data = (upload.filename or "")[-80:]
    return render_template("indicators/plans.html", form=form, confirm=confirm, preview=preview, error=error,
                           codes=_formula_codes())


def _formula_codes() -> dict:
    """The codes a plan's optional formula columns take, with their labels (shown on the import page)."""
    return {"formula": [(k, label("formula", k)) for k in ind.FORMULAS],
            "population": [(k, label("formula_population", k)) for k in ind.POPULATIONS],
            "step_kind": ind.step_kind_choices(str(get_locale()))}


@bp.route("/admin/plans/confirm", methods=["POST"])
@action_required("admin.manage")
def plans_confirm():
    confirm = PlanConfirmForm()
    if not confirm.validate_on_submit():
        flash(_("The preview expired or was altered; upload the file again."), "error")
        return redirect(url_for("indicators.plans"))
    try:
        preview = plan_service.preview_payload(current_user, confirm.payload.data)
        if not preview.ok:
            return render_template("indicators/plans.html", form=PlanUploadForm(), confirm=confirm, preview=preview,
                                   error=_("The plan has errors; nothing was written."), codes=_formula_codes())
        counts = plan_service.apply(current_user, preview, filename=confirm.filename.data or "")
    except Invalid as exc:
        flash(exc.message, "error")
        return redirect(url_for("indicators.plans"))
    flash(_("Plan imported: %(rows)s rows, %(products)s products (%(new)s new).", rows=counts["rows"],
            products=counts["products"], new=counts["products_new"]), "success")
    return redirect(url_for("indicators.plans"))


@bp.route("/admin/products")
@action_required("admin.manage")
def admin_products():
    return render_template("indicators/admin_products.html", products=ind.list_all_products(current_user))


@bp.route("/admin/products/<int:product_id>", methods=["GET", "POST"])
@action_required("admin.manage")
def admin_product(product_id: int):
    product = ind.get_product_by_id(current_user, product_id)
    form = ProductForm()
    form.formula.choices = [(k, label("formula", k)) for k in ind.FORMULAS]
    form.population.choices = [(k, label("formula_population", k)) for k in ind.POPULATIONS]
    form.step_kind.choices = [("", _("Any kind"))] + ind.step_kind_choices(str(get_locale()))
    # A unit imported from a sheet in other words stays selectable as it was written.
    units = list(LABELS["product_unit"]) + ([product.unit] if product.unit not in LABELS["product_unit"] else [])
    form.unit.choices = [(u, label("product_unit", u)) for u in units if u]
    if request.method == "GET":
        for key in ind.EDITABLE:
            if key == "responsible_entity":
                value = product.responsible_entity.code if product.responsible_entity else ""
            elif key in ind.PARAMS:
                value = ind.stored_params(product)[key]
            else:
                value = getattr(product, key)
            form[key].data = "" if value is None else (ch.number(value) if key == "weight" else str(value))
        form.version.data = product.version
    elif form.validate_on_submit():
        try:
            ind.update_product(current_user, product.id, {k: form[k].data for k in ind.EDITABLE},
                               form.version.data)
        except Invalid as exc:
            flow.flash_error(exc, form)
        else:
            flash(_("Product saved."), "success")
            return redirect(url_for("indicators.admin_product", product_id=product.id))
    return render_template("indicators/admin_product.html", form=form, product=product)
