"""Downloadable files (CSV and XLSX) of the product sheet, any count table and the committee's reports: the one
export module of the indicators, every cell written by `caseapp.spreadsheets` (one CSV dialect for a Colombian
Excel, numbers as numbers in XLSX, one formula-injection guard).

Every count comes from the protected publication. A suppressed count is an empty cell, never a bound it might
break: in CSV the section's note (just above its header) says why, in XLSX the empty cell carries that legend as
a comment. No file holds a case code, a name or a record. Every download is written to the access log
(`stats.export`) with what was exported, never the figures.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font

from caseapp import authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import label
from caseapp.services import indicators as ind
from caseapp.services.indicators import committee, reads, stats
from caseapp.services.indicators.committee import Section
from caseapp.services.indicators.scope import viewer_territory
from caseapp.spreadsheets import RESERVED, Pct, csv_bytes, put

FORMATS = ("csv", "xlsx")
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass
class Report:
    name: str  # file name stem
    title: str
    sections: list[Section] = field(default_factory=list)


def _lines(report: Report):
    yield [report.title]
    for section in report.sections:
        yield []
        yield [section.title]
        if section.note:
            yield [section.note]
        yield section.header
        yield from section.rows


def to_csv(report: Report) -> bytes:
    return csv_bytes(_lines(report))


def to_xlsx(report: Report) -> bytes:
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for i, section in enumerate(report.sections, start=1):
        name = re.sub(r"[\[\]:*?/\\']", " ", section.title)[:28].strip() or f"Hoja {i}"
        while name in used:
            name = f"{name[:25]} {i}"
        used.add(name)
        sheet = book.create_sheet(name)
        lines = [[report.title], [section.title]] + ([[section.note]] if section.note else []) + [section.header]
        for r, line in enumerate(lines + section.rows, start=1):
            for c, value in enumerate(line, start=1):
                put(sheet, r, c, value, section.note or str(stats.RESERVED))
        for cell in sheet[1] + sheet[len(lines)]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 48
    if not report.sections:
        put(book.create_sheet("Ruta"), 1, 1, report.title)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(report: Report, fmt: str) -> tuple[bytes, str, str]:
    if fmt not in FORMATS:
        raise Invalid(_("Choose CSV or XLSX."), field_errors={"format": _("Invalid format.")})
    data = to_csv(report) if fmt == "csv" else to_xlsx(report)
    return data, MIMETYPES[fmt], f"{report.name}.{fmt}"


# --- sections ------------------------------------------------------------------------------------------------


def shown(count, suppressed: bool):
    """A suppressed count is an empty cell; the section's note (and in XLSX the cell's comment) says why."""
    return RESERVED if suppressed else count


def table_section(title: str, table: stats.Table, note: str | None = None) -> Section:
    header = [str(stats.DIM_LABELS[d]) for d in table.by] + [_("Count")]
    section = Section(title, header, note=note)
    for row in table.rows:
        section.rows.append([stats.value_label(d, row.values[d]) for d in table.by]
                            + [shown(row.count, row.suppressed)])
    section.rows.append([_("Total")] + [""] * (len(table.by) - 1) + [shown(table.total, table.total_suppressed)])
    return section


suppression_note = committee.suppression_note


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
        [_("First year"), p.first_year], [_("Final target"), p.final_target],
        [_("Weight"), p.weight], [_("Responsible sector"), p.sector or "—"],
        [_("Co-responsible"), p.co_responsible or "—"], [_("ODS code"), p.ods_code or "—"],
        [_("Cut-off date"), status.as_of.isoformat()],
    ]
    periods = Section(_("Targets and values per period"),
                      [_("Period"), _("Target"), _("Achieved"), _("Progress"), _("Source")])
    for r in status.periods:
        periods.rows.append([r.period.label, r.target, RESERVED if r.withheld else r.value,
                             RESERVED if r.withheld else (Pct(r.progress) if r.due else _("not due")),
                             r.source or ""])
    method = Section(_("Follow-up (seed 001 method)"), [_("Measure"), _("Value")])
    method.rows = [
        [_("Cumulative achieved"), status.cumulative_achieved],
        [_("Cumulative target"), status.cumulative_target],
        [_("Cumulative progress"), Pct(status.cumulative)],
        [_("Ideal trajectory"), Pct(status.ideal_trajectory)],
        [_("Gap"), Pct(status.gap)],
        [_("Progress to date"), Pct(status.progress_to_date)],
        [_("Traffic light"), label("traffic_light", status.traffic_light)],
    ]
    return [facts, periods, method]


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
    """The annual measurement of product 3.5 (official total) with its suppressed breakdowns, and the committee's
    sections for the year, from the reader's own publication."""
    authz.require(actor, "stats.read")
    status = ind.product_progress(actor, "3.5", year=year, policy=policy or "CTG-PPIG")
    report = Report(f"informe-anual-{year}", _("Yearly report %(year)s", year=year))
    report.sections = product_sheet_sections(status)
    report.sections += _breakdown_sections(actor, status.product, year)
    # One reader, one publication: her own territory's (two publications of the same cases, protected each on
    # its own, could be subtracted from one another).
    report.sections += committee.sections(actor, viewer_territory(actor), "year", str(year),
                                          products=[status.product])
    return _finish(actor, report, fmt, "yearly_report", {"year": year})


PERIOD_REPORTS = {
    "monthly": (_l("Monthly report %(period)s"), "informe-mensual"),
    "half_yearly": (_l("Half-yearly report %(period)s"), "informe-semestral"),
    "bimonthly": (_l("Two-monthly statistics for the national committee %(period)s (Decree 1066 of 2015, "
                    "arts. 2.2.2.2.34-36)"), "estadisticas-bimestrales"),
}
PERIOD_KIND = {"monthly": "month", "half_yearly": "semester", "bimonthly": "bimester"}


@reads.export_scope
def period_report(actor, kind: str, period: str, *, fmt: str = "xlsx"):
    """The committee's monthly, half-yearly or two-monthly report of the reader's territory: each reads the cells
    of its own period level in the publication."""
    authz.require(actor, "stats.read")
    if kind not in PERIOD_REPORTS:
        raise Invalid(_("Unknown report."))
    parsed = stats.parse_period(period)
    if parsed is None or parsed[0] != PERIOD_KIND[kind]:
        raise Invalid(_("The period does not fit this report (e.g. 2025-03, 2025-S1, 2025-B2)."),
                      field_errors={"period": _("Invalid period.")})
    title, stem = PERIOD_REPORTS[kind]
    report = Report(f"{stem}-{parsed[1]}", str(title) % {"period": parsed[1]})
    territory = viewer_territory(actor)
    report.sections = committee.sections(actor, territory, parsed[0], parsed[1])
    return _finish(actor, report, fmt, kind, {"period": parsed[1]})


def _finish(actor, report: Report, fmt: str, what: str, detail: dict):
    data, mimetype, filename = render(report, fmt)
    stats.log_export(actor, what, {**detail, "format": fmt})
    db.session.commit()
    return data, mimetype, filename


def data_as_of() -> date:
    """The day the reports count to: the last closed month's end."""
    return committee.last_closed_month()


def default_periods() -> dict:
    """The last closed month and the periods holding it: what a committee can discuss."""
    last = committee.last_closed_month()
    return {"year": last.year, "month": f"{last.year}-{last.month:02d}",
            "semester": f"{last.year}-S{(last.month + 5) // 6}", "bimester": f"{last.year}-B{(last.month + 1) // 2}"}
