"""What the committees discuss: the sections of the monthly, half-yearly and two-monthly reports (seed 003; Decree
1066 of 2015, arts. 2.2.2.2.34-36) and of the yearly report, read from a territory's protected publication.

A report of a period reads that period's cells (a month's, a half-year's, a two-month period's, a year's): the
cases by phase and status, the event bases of `publication/events.py` (steps, barriers, referrals, phases,
closures, legal follow-up) and the women linked against the product's target. Nothing here counts rows: a
figure that is not a published cell does not exist for a report, and a suppressed one is `RESERVED`.
"""
from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.labels import LABELS, label, territory_label
from caseapp.models import territory as territories
from caseapp.models.cases import CASE_STATUSES
from caseapp.models.route import StepKind
from caseapp.services import indicators as ind
from caseapp.services.indicators import publication, stats
from caseapp.services.indicators.publication.bases import PHASES
from caseapp.services.indicators.publication.events import REFERRAL_EVENTS, TERMS
from caseapp.services.indicators.scope import product_territory
from caseapp.spreadsheets import RESERVED, Pct
from caseapp.timeutil import to_local

# The profile of the cases a committee reads besides the route (Decree 1066 statistics): each alone, by period.
PROFILE_DIMS = ("sex", "age_group", "exploitation_purpose", "trafficking_scope", "nationality", "ethnic_group",
                "entity")


@dataclass
class Section:
    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    note: str | None = None


def suppression_note(k: int) -> str:
    return _("An empty count is reserved: it is not published because it holds from 1 to %(k1)s, or because it would "
             "let such a count be worked out from other published figures. It may hold any number.", k1=k - 1)


def last_closed_month() -> date:
    return publication.current_cut_off()


def bounds(level: str, period: str) -> tuple[date, date]:
    """The first and last day of a period code ('2025', '2025-S1', '2025-B3', '2025-Q2', '2025-03')."""
    year = int(period[:4])
    if level == "year":
        first, last = 1, 12
    elif level == "month":
        first = last = int(period[5:])
    else:
        n = int(period[6:])
        size = {"semester": 6, "quarter": 3, "bimester": 2}[level]
        first, last = size * (n - 1) + 1, size * n
    return date(year, first, 1), date(year, last, monthrange(year, last)[1])


# --- reading cells ---------------------------------------------------------------------------------------------


def _shown(value):
    return RESERVED if value is None else value


def one_dim(pub, base: str, level: str, period: str, dim: str) -> tuple[dict[str, int | None], int | None]:
    """A base's cells by one dimension for one period, and its total (None: suppressed); absent cells hold 0."""
    rows = {key[0]: value for (per, key), value in publication.cells(pub, base, level, (dim,)).items()
            if per == period}
    total, hidden = publication.cell(pub, base, level, period)
    return rows, (None if hidden else total)


class _Labels:
    """The values of the report's dimensions as files show them (one catalogue: `caseapp.labels`)."""

    GROUPS = {"term": "phase_term", "phase": "phase", "closure_reason": "closure", "protection_kind": "protection",
              "status": "status"}

    def __init__(self):
        self._kinds: dict[str, str] | None = None

    def __call__(self, dim: str, value: str) -> str:
        if dim in ("entity", "provider_entity", "to_entity"):
            return stats.value_label("entity" if dim == "to_entity" else dim, value)
        if dim == "step_kind":
            if self._kinds is None:
                english = (get_locale() is not None and get_locale().language == "en")
                self._kinds = {code: (en if english else es) for code, es, en in db.session.execute(
                    select(StepKind.code, StepKind.label_es, StepKind.label_en))}
            return self._kinds.get(value, value)
        if dim in self.GROUPS:
            return label(self.GROUPS[dim], value)
        return value

    def ordered(self, dim: str, values) -> list[str]:
        return sorted(values, key=lambda v: (v in ("unknown", "none"), self(dim, v).casefold()))


def _dim_header(dim: str) -> str:
    return str(LABELS["report_dimension"][dim])


# --- the sections ----------------------------------------------------------------------------------------------


def sections(actor, territory: str, level: str, period: str, *, products=None) -> list[Section]:
    """Every section of the committee's report of `territory` for one period."""
    start, end = bounds(level, period)
    pub = publication.publication(territory, start.year)
    about = Section(_("About this report"), [_("Field"), _("Value")])
    about.rows = [[_("Territory"), territory_label(territory)], [_("Period"), stats.value_label(level, period)]]
    if pub is None or start > pub.cut_off:
        about.note = _("This period has not closed yet: nothing of it is published. A month is published once it "
                       "has closed.")
        about.rows.append([_("Data as of"), last_closed_month().strftime("%d/%m/%Y")])
        return [about]
    if end > pub.cut_off:
        about.note = _("This period has not closed yet: its counts go up to %(date)s.", date=pub.cut_off.strftime("%d/%m/%Y"))
    about.rows += [[_("Data as of"), pub.cut_off.strftime("%d/%m/%Y")],
                   [_("Counted on"), to_local(pub.built_at).strftime("%d/%m/%Y %H:%M")],
                   [_("Smallest count published (k)"), pub.k]]
    ctx = _Context(pub, level, period, _Labels(), suppression_note(pub.k))
    made = [about, _cases(ctx)]
    made += _by_each(ctx, "steps:done", _("Assistance steps done"), ("step_kind", "provider_entity"))
    made += [_referrals(ctx), _phases(ctx), _single(ctx, "closures", _("Cases closed"), "closure_reason"),
             _single(ctx, "complaints", _("Criminal complaints filed"), "entity"), _protection(ctx)]
    barriers = _by_each(ctx, "steps:not_provided", _("Barriers: assistance steps not provided"),
                        ("step_kind", "provider_entity"))
    for section in barriers:
        section.note = _("The reason a step was not provided is free text kept encrypted, so barriers are counted by "
                         "kind of step and provider entity.") + " " + ctx.note
    made += barriers
    made.append(_women_linked(actor, ctx, territory, products))
    for base, what in (("identified", _("Cases identified")), ("linked", _("Cases linked"))):
        made += [_by_dimension(ctx, base, what, dim) for dim in PROFILE_DIMS]
    return made


@dataclass
class _Context:
    pub: object
    level: str
    period: str
    labels: _Labels
    note: str


def _cases(ctx: _Context) -> Section:
    section = Section(_("Cases identified in the period by phase and status"),
                      [str(LABELS["stats_dimension"]["phase"]), str(LABELS["stats_dimension"]["status"]), _("Count")],
                      note=ctx.note)
    rows, total = one_dim(ctx.pub, "identified", ctx.level, ctx.period, "status")
    for status in [s for s in CASE_STATUSES if s in rows] + sorted(set(rows) - set(CASE_STATUSES)):
        section.rows.append([label("stats_phase", PHASES.get(status, "closed")), label("status", status),
                             _shown(rows[status])])
    section.rows.append([_("Total"), "", _shown(total)])
    return section


def _single(ctx: _Context, base: str, what: str, dim: str) -> Section:
    section = Section(_("%(what)s by %(dim)s", what=what, dim=_dim_header(dim).lower()),
                      [_dim_header(dim), _("Count")], note=ctx.note)
    rows, total = one_dim(ctx.pub, base, ctx.level, ctx.period, dim)
    for value in ctx.labels.ordered(dim, rows):
        section.rows.append([ctx.labels(dim, value), _shown(rows[value])])
    section.rows.append([_("Total"), _shown(total)])
    return section


def _by_dimension(ctx: _Context, base: str, what: str, dim: str) -> Section:
    """The profile of the period's cases by one of the statistics dimensions (sex, age group, purpose...)."""
    name = str(LABELS["stats_dimension"][dim])
    section = Section(_("%(what)s by %(dim)s", what=what, dim=name.lower()), [name, _("Count")], note=ctx.note)
    rows, total = one_dim(ctx.pub, base, ctx.level, ctx.period, dim)
    for value in sorted(rows, key=lambda v: stats.sort_key(dim, v)):
        section.rows.append([stats.value_label(dim, value), _shown(rows[value])])
    section.rows.append([_("Total"), _shown(total)])
    return section


def _by_each(ctx: _Context, base: str, what: str, dims) -> list[Section]:
    return [_single(ctx, base, what, dim) for dim in dims]


def _referrals(ctx: _Context) -> Section:
    header = [_dim_header("to_entity")] + [label("referral_event", e) for e in REFERRAL_EVENTS]
    section = Section(_("Referrals by entity asked"), header, note=ctx.note + " " + _(
        "Each referral counts in the month it was sent, answered (accepted or rejected) and done; it counts as not "
        "answered by its due date in the month after that date passed."))
    columns = [one_dim(ctx.pub, f"referrals:{e}", ctx.level, ctx.period, "to_entity") for e in REFERRAL_EVENTS]
    entities = set().union(*(rows for rows, _total in columns))
    for entity in ctx.labels.ordered("to_entity", entities):
        section.rows.append([ctx.labels("to_entity", entity)] + [_shown(rows.get(entity, 0)) for rows, _t in columns])
    section.rows.append([_("Total")] + [_shown(total) for _rows, total in columns])
    return section


def _phases(ctx: _Context) -> Section:
    header = [_dim_header("phase")] + [label("phase_term", t) for t in TERMS] + [_("Extensions granted")]
    section = Section(_("Immediate and mediate assistance: legal terms and extensions"), header, note=ctx.note)
    extensions, _total = one_dim(ctx.pub, "extensions", ctx.level, ctx.period, "phase")
    for phase in ("immediate", "mediate"):
        terms, _t = one_dim(ctx.pub, f"phases:{phase}", ctx.level, ctx.period, "term")
        section.rows.append([label("phase", phase)] + [_shown(terms.get(t, 0)) for t in TERMS]
                            + [_shown(extensions.get(phase, 0))])
    return section


def _protection(ctx: _Context) -> Section:
    section = Section(_("Protection measures requested and granted"),
                      [_dim_header("protection_kind"), label("protection_status", "requested"),
                       label("protection_status", "granted")], note=ctx.note)
    requested, req_total = one_dim(ctx.pub, "protection:requested", ctx.level, ctx.period, "protection_kind")
    granted, gr_total = one_dim(ctx.pub, "protection:granted", ctx.level, ctx.period, "protection_kind")
    for kind in ctx.labels.ordered("protection_kind", set(requested) | set(granted)):
        section.rows.append([ctx.labels("protection_kind", kind), _shown(requested.get(kind, 0)),
                             _shown(granted.get(kind, 0))])
    section.rows.append([_("Total"), _shown(req_total), _shown(gr_total)])
    return section


def _women_linked(actor, ctx: _Context, territory: str, products) -> Section:
    """Women linked in the period and so far in the year against the year's target of each women-linked product
    of the territory (Cartagena's 3.5)."""
    section = Section(_("Women linked against the product's target"),
                      [_("Product"), _("Linked in the period"), _("Linked so far this year"), _("Target for the year"),
                       _("Progress")], note=ctx.note)
    if products is None:
        products = [p for p in ind.list_products(actor) if p.formula == "women_linked"
                    and territories.contains(territory, product_territory(p))]
    _start, end = bounds(ctx.level, ctx.period)
    for product in products:
        value, hidden = publication.cell(ctx.pub, f"product:{product.id}", ctx.level, ctx.period)
        status = ind.product_progress(actor, product.code, year=end.year, as_of=min(end, ctx.pub.cut_off),
                                      policy=product.objective.policy.code)
        so_far = RESERVED if status.withheld or status.achieved is None else status.achieved
        share = None if so_far is RESERVED or not status.target else Fraction(so_far) / Fraction(status.target)
        section.rows.append([f"{product.objective.policy.code} · {product.code} — {product.name}",
                             RESERVED if hidden else value, so_far, status.target, Pct(share)])
    if not products:
        section.note = _("No product of this territory counts the women linked to the programme.")
    return section
