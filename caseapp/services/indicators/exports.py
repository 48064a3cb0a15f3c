"""Downloadable files (CSV and XLSX) of the product sheet, any count table and the periodic reports.

Every count in every file comes from `caseapp.services.stats` and so carries the same suppression as the screens
("<k"); only a product's official per-period total is published as it is. No file holds a case code, a name or a
record. Every download is written to the access log (`stats.export`) with what was exported, never the figures.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font

from caseapp import authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import label
from caseapp.services import indicators as ind
from caseapp.services.indicators import reads, stats
from caseapp.timeutil import today

FORMATS = ("csv", "xlsx")
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
REPORT_DIMS = ("sex", "age_group", "exploitation_purpose", "trafficking_scope", "nationality", "ethnic_group",
               "entity", "phase")


@dataclass
class Section:
    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    note: str | None = None


@dataclass
class Report:
    name: str  # file name stem
    title: str
    sections: list[Section] = field(default_factory=list)


def _safe(value):
    """Neutralise spreadsheet formulas in text cells (CSV/XLSX injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _fmt_pct(value) -> str:
    return "—" if value is None else format_decimal(round(float(value) * 100, 1), format="#,##0.0") + " %"


def _csv_cell(value):
    """Numbers as a Colombian spreadsheet reads them (1.000 and 0,75); text made safe."""
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.####")
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value, format="#,##0")
    return _safe(value)


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_safe(report.title)])
    for section in report.sections:
        writer.writerow([])
        writer.writerow([_safe(section.title)])
        if section.note:
            writer.writerow([_safe(section.note)])
        writer.writerow([_safe(h) for h in section.header])
        for row in section.rows:
            writer.writerow([_csv_cell(c) for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for i, section in enumerate(report.sections, start=1):
        name = re.sub(r"[\[\]:*?/\\]", " ", section.title)[:28].strip() or f"Hoja {i}"
        while name in used:
            name = f"{name[:25]} {i}"
        used.add(name)
        sheet = book.create_sheet(name)
        sheet.append([_safe(report.title)])
        sheet["A1"].font = Font(bold=True)
        sheet.append([_safe(section.title)])
        if section.note:
            sheet.append([_safe(section.note)])
        sheet.append([_safe(h) for h in section.header])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in section.rows:
            sheet.append([_safe(c) for c in row])
        sheet.column_dimensions["A"].width = 48
    if not report.sections:
        book.create_sheet("Ruta").append([report.title])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(report: Report, fmt: str) -> tuple[bytes, str, str]:
    if fmt not in FORMATS:
        raise Invalid(_("Choose CSV or XLSX."), field_errors={"format": _("Invalid format.")})
    data = to_csv(report) if fmt == "csv" else to_xlsx(report)
    return data, MIMETYPES[fmt], f"{report.name}.{fmt}"


# --- sections ------------------------------------------------------------------------------------------------


def shown(table: stats.Table, count, suppressed: bool):
    """A suppressed count is an empty cell; the section's note says why."""
    return None if suppressed else count


def table_section(title: str, table: stats.Table, note: str | None = None) -> Section:
    header = [str(stats.DIM_LABELS[d]) for d in table.by] + [_("Count")]
    section = Section(title, header, note=note)
    for row in table.rows:
        section.rows.append([stats.value_label(d, row.values[d]) for d in table.by]
                            + [shown(table, row.count, row.suppressed)])
    section.rows.append([_("Total")] + [""] * (len(table.by) - 1) + [shown(table, table.total, table.total_suppressed)])
    return section


def suppression_note(k: int) -> str:
    return _("An empty count is reserved: it is not published because it holds from 1 to %(k1)s, or because it would "
             "let such a count be worked out from other published figures. It may hold any number.", k1=k - 1)


def product_sheet_sections(status: ind.ProductStatus) -> list[Section]:
    p = status.product
    facts = Section(_("Product sheet"), [_("Field"), _("Value")])
    facts.rows = [
        [_("Policy"), p.objective.policy.name], [_("Objective"), f"{p.objective.code}. {p.objective.name}"],
        [_("Product code"), p.code], [_("Product"), p.name], [_("Indicator"), p.indicator],
        [_("Formula"), p.formula_text or str(ind.FORMULAS[p.formula].description)],
        [_("Baseline"), f"{p.baseline or 'ND'} ({p.baseline_year or '—'}, {p.baseline_source or '—'})"],
        [_("Periodicity"), label("periodicity", p.periodicity)], [_("Number of periods"), p.periods_count],
        [_("Unit"), label("product_unit", p.unit)],
        [_("First year"), p.first_year], [_("Final target"), float(p.final_target)],
        [_("Weight"), float(p.weight)], [_("Responsible sector"), p.sector or "—"],
        [_("Co-responsible"), p.co_responsible or "—"], [_("ODS code"), p.ods_code or "—"],
        [_("Cut-off date"), status.as_of.isoformat()],
    ]
    periods = Section(_("Targets and values per period"),
                      [_("Period"), _("Target"), _("Achieved"), _("Progress"), _("Source")])
    for r in status.periods:
        periods.rows.append([r.period.label, float(r.target), None if r.value is None else float(r.value),
                             _fmt_pct(r.progress) if r.due else _("not due"), r.source or ""])
    method = Section(_("Follow-up (seed 001 method)"), [_("Measure"), _("Value")])
    method.rows = [
        [_("Cumulative achieved"), float(status.cumulative_achieved)],
        [_("Cumulative target"), float(status.cumulative_target)],
        [_("Cumulative progress"), _fmt_pct(status.cumulative)],
        [_("Ideal trajectory"), _fmt_pct(status.ideal_trajectory)],
        [_("Gap"), _fmt_pct(status.gap)],
        [_("Progress to date"), _fmt_pct(status.progress_to_date)],
        [_("Traffic light"), label("traffic_light", status.traffic_light)],
    ]
    return [facts, periods, method]


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


# --- the exports -------------------------------------------------------------------------------------------------


@reads.export_scope
def product_sheet(actor, code: str, *, year: int, as_of: date | None = None, policy: str | None = None,
                  fmt: str = "xlsx"):
    status = ind.product_progress(actor, code, year=year, as_of=as_of, policy=policy)
    report = Report(f"producto-{status.product.code}-{year}", _("Product %(code)s — %(name)s",
                                                                  code=status.product.code, name=status.product.name))
    report.sections = product_sheet_sections(status)
    report.sections += _breakdown_sections(actor, status.product, year)
    return _finish(actor, report, fmt, "product_sheet", {"product": status.product.code, "year": year})


def _breakdown_sections(actor, product, year: int) -> list[Section]:
    dims = ind.FORMULAS[product.formula].breakdowns
    tables = stats.breakdown_tables(actor, product, dims, year)
    return [table_section(_("%(product)s by %(dim)s", product=product.code, dim=str(stats.DIM_LABELS[dim]).lower()),
                          table, suppression_note(table.k))
            for dim, table in zip(dims, tables, strict=False)]


@reads.export_scope
def stats_table(actor, by, *, filters=None, period=None, unit="cases", basis="identified", fmt="csv"):
    table = stats.cases_table(actor, by, filters=filters, period=period, unit=unit, basis=basis)
    title = _("Cases by %(dims)s", dims=", ".join(str(stats.DIM_LABELS[d]).lower() for d in table.by))
    report = Report("conteos-" + "-".join(table.by) + (f"-{period}" if period else ""), title)
    report.sections = [table_section(title, table, suppression_note(table.k))]
    return _finish(actor, report, fmt, "stats_table", {"by": list(table.by), "filters": sorted(table.filters),
                                                        "period": period or ""})


@reads.export_scope
def yearly_report(actor, year: int, *, fmt: str = "xlsx", policy: str | None = None):
    """The annual measurement of product 3.5 (official total) with its suppressed breakdowns and the year's counts."""
    authz.require(actor, "stats.read")
    status = ind.product_progress(actor, "3.5", year=year, policy=policy or "CTG-PPIG")
    report = Report(f"informe-anual-{year}", _("Yearly report %(year)s", year=year))
    report.sections = product_sheet_sections(status)
    report.sections += _breakdown_sections(actor, status.product, year)
    report.sections += _period_sections(actor, str(year))
    return _finish(actor, report, fmt, "yearly_report", {"year": year})


def _period_sections(actor, period: str) -> list[Section]:
    """The period's counts of the reader's territory: the committee of a territory reads its own."""
    sections = []
    for basis, what in (("identified", _("Cases identified")), ("linked", _("Cases linked"))):
        for dim in REPORT_DIMS:
            table = stats.query(actor, dim, period=period, base=basis)
            sections.append(table_section(_("%(what)s by %(dim)s", what=what, dim=str(stats.DIM_LABELS[dim]).lower()),
                                          table, suppression_note(table.k)))
    return sections


PERIOD_REPORTS = {
    "monthly": (_l("Monthly report %(period)s"), "informe-mensual"),
    "half_yearly": (_l("Half-yearly report %(period)s"), "informe-semestral"),
    "bimonthly": (_l("Two-monthly statistics for the national committee %(period)s (Decree 1066 of 2015, "
                    "arts. 2.2.2.2.34-36)"), "estadisticas-bimestrales"),
}
PERIOD_KIND = {"monthly": "month", "half_yearly": "semester", "bimonthly": "bimester"}


@reads.export_scope
def period_report(actor, kind: str, period: str, *, fmt: str = "xlsx"):
    authz.require(actor, "stats.read")
    if kind not in PERIOD_REPORTS:
        raise Invalid(_("Unknown report."))
    parsed = stats.parse_period(period)
    if parsed[0] != PERIOD_KIND[kind]:
        raise Invalid(_("The period does not fit this report (e.g. 2025-03, 2025-S1, 2025-B2)."),
                      field_errors={"period": _("Invalid period.")})
    title, stem = PERIOD_REPORTS[kind]
    report = Report(f"{stem}-{parsed[1]}", str(title) % {"period": parsed[1]})
    report.sections = _period_sections(actor, parsed[1])
    return _finish(actor, report, fmt, kind, {"period": parsed[1]})


def _finish(actor, report: Report, fmt: str, what: str, detail: dict):
    data, mimetype, filename = render(report, fmt)
    stats.log_export(actor, what, {**detail, "format": fmt})
    db.session.commit()
    return data, mimetype, filename


def default_periods() -> dict:
    t = today()
    return {"year": t.year, "month": f"{t.year}-{t.month:02d}", "semester": f"{t.year}-S{(t.month + 5) // 6}",
            "bimester": f"{t.year}-B{(t.month + 1) // 2}"}
