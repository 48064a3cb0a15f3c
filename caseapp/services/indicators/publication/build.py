"""Building a territory's publication for a year: count every base, protect every component, store the cells.

The cut-off: the last day of the last closed month (Bogotá time); a closed year is counted to 31 December. Nothing
of the open month is published, so a registration cannot be watched appearing in the counts, and a cut-off date
asked for resolves to the same days.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, func, insert, select

from caseapp.extensions import db
from caseapp.models import territory as territories
from caseapp.models.cases import Case
from caseapp.models.indicators import Objective, Policy, Product
from caseapp.models.publication import Publication, PublishedCell
from caseapp.services.indicators import formulas
from caseapp.services.indicators.dimensions import YEAR_ALONE_DIMS, get_k
from caseapp.services.indicators.periods import parse_period
from caseapp.services.indicators.publication import bases, releases
from caseapp.services.indicators.publication.events import event_bases
from caseapp.services.indicators.publication.family import family_bases
from caseapp.services.indicators.publication.protect import protect
from caseapp.services.indicators.publication.tables import BaseTables, stored, tabulate
from caseapp.services.indicators.scope import cases_inside, policy_territory
from caseapp.timeutil import today, utcnow


def current_cut_off() -> date:
    """The last day of the last closed month."""
    return today().replace(day=1) - timedelta(days=1)


def cut_off_for(year: int) -> date | None:
    """The day a year's publication counts to: 31 December once closed, else the last closed month's end (None
    while no month of the year has closed)."""
    last = current_cut_off()
    if year > last.year:
        return None
    return min(date(year, 12, 31), last)


def resolve(as_of: date) -> date:
    """A cut-off date asked for, as the publication can answer it: the last closed month's end on or before it."""
    as_of = min(as_of, current_cut_off())
    following = as_of + timedelta(days=1)
    return as_of if following.day == 1 else as_of.replace(day=1) - timedelta(days=1)


def first_case_year(territory: str) -> int | None:
    """The year of the first case identified inside `territory` (None: no case yet)."""
    first = db.session.scalar(select(func.min(Case.identified_on)).where(*cases_inside(territory)))
    return first.year if first else None


def years_read(territory: str) -> list[int]:
    """Every year whose publication a reader of `territory` may be shown, to the current publication's: each year
    from its first case (counts by period read them all) or from the first target of its computed products, if
    earlier (the dashboard's trajectory reads the publication of each started period's year). What `flask stats
    publish --stale` keeps counted, so that no reader's page starts a build."""
    starts = [parse_period(t.period).starts_on.year for p in computed_products(territory) for t in p.targets]
    return years_from(min([y for y in (first_case_year(territory), *starts) if y is not None], default=None))


def years_from(first: int | None) -> list[int]:
    """The years from `first` to the current publication's (that one alone when `first` is None or later)."""
    last = current_cut_off().year
    return list(range(first, last + 1)) if first is not None and first <= last else [last]


def computed_products(territory: str) -> list[Product]:
    """The computed products of the policies inside `territory` (every one, for the nation)."""
    stmt = select(Product).join(Objective).join(Policy).where(Product.formula != "manual")
    if territory != territories.NATIONAL:
        stmt = stmt.where(territories.inside(Policy.territory_code, territory))
    return list(db.session.scalars(stmt.order_by(Product.id)))


def product_bases(product: Product, start: date, end: date) -> list[BaseTables]:
    """A computed product's bases: its rows (or a share's numerator and denominator), with the closed periods of
    its own periodicity as official figures."""
    territory = policy_territory(product.objective.policy)
    formula = formulas.FORMULAS[product.formula]
    parts = formulas.row_sources(product, formula)
    made = []
    for suffix, rows in parts:
        name = f"product:{product.id}{suffix}"
        records = bases.unit_records(rows(product, start, end, territory), end)
        # a product is published by its breakdowns' dimensions only (what its screens and files show)
        dims = tuple(d for d in bases.DIMS if d in formula.breakdowns)
        base = tabulate(name, records, dims, bases.MULTI, last_month=end.month, ytd=True,
                        year_alone=YEAR_ALONE_DIMS)
        base.official = _official_cells(product, end)
        if product.formula == "women_linked":
            base.subset_of = [("linked", True)]
        if suffix == ":den" and product.formula == "coverage":  # the victims identified, counted twice
            base.subset_of = [("identified:victims", False)]
        if suffix == ":num":  # a share's numerator: among its denominator (where each unit's first date agrees)
            base.subset_of = [(f"product:{product.id}:den", False)]
        made.append(base)
    return made


def _official_cells(product: Product, cut_off: date) -> set:
    """A product's official figures: the total of each closed period of its own periodicity (and of the year once
    closed). Within an open period, its months and year to date are protected like any other count."""
    year = cut_off.year
    cells = {("year", str(year), (), ())} if cut_off == date(year, 12, 31) else set()
    if product.periodicity == "semiannual":
        cells |= {("semester", f"{year}-S{n}", (), ()) for n in (1, 2) if cut_off.month >= 6 * n}
    elif product.periodicity == "quarterly":
        cells |= {("quarter", f"{year}-Q{n}", (), ()) for n in (1, 2, 3, 4) if cut_off.month >= 3 * n}
    return cells


def build(territory: str, year: int) -> Publication | None:
    """Count and protect the territory's publication for `year` and store it in place of the previous one (in the
    caller's transaction)."""
    cut_off = cut_off_for(year)
    if cut_off is None:
        return None
    start = date(year, 1, 1)
    k = get_k()
    all_bases: list[BaseTables] = []
    for basis in ("identified", "linked"):
        cases, victims = bases.case_records(territory, start, cut_off, basis)
        for name, records in ((basis, cases), (f"{basis}:victims", victims)):
            all_bases.append(tabulate(name, records, bases.DIMS, bases.MULTI, last_month=cut_off.month,
                                      derived=bases.DERIVED, year_alone=YEAR_ALONE_DIMS))
    # the linked among the identified (where the data agrees); a woman counted once among her cases
    all_bases[2].subset_of = [("identified", False)]
    all_bases[3].subset_of = [("identified:victims", False), ("linked", True)]
    all_bases[1].subset_of = [("identified", True)]
    for product in computed_products(territory):
        all_bases.extend(product_bases(product, start, cut_off))
    all_bases.extend(event_bases(territory, start, cut_off))
    all_bases.extend(family_bases(territory, start, cut_off))  # the family members, apart from the victims
    published = suppressed = programmes = 0
    narrowest = None
    rows = []
    # what earlier releases of the year published, and the sums of suppressed cells they gave away
    known, sums = releases.known_values(territory, year), releases.known_sums(territory, year)
    last_hidden = releases.last_hidden(territory, year)
    given = {}
    for component in _components(all_bases):
        hidden, result = protect(component, k, known, last_hidden, sums)
        given.update({base.name: releases.sums_given_away(base, hidden[base.name]) for base in component})
        programmes += result.programmes
        if result.narrowest is not None and result.narrowest != float("inf"):
            narrowest = result.narrowest if narrowest is None else min(narrowest, result.narrowest)
        for base in component:
            for cell, count in base.cells.items():
                time, period, dims, key = stored(cell)
                value = None if cell in hidden[base.name] else count
                published += value is not None
                suppressed += value is None
                rows.append({"base": base.name, "time": time, "period": period, "dims": dims, "key": key,
                             "value": value})
    old = select(Publication.id).where(Publication.territory == territory, Publication.year == year)
    db.session.execute(delete(PublishedCell).where(PublishedCell.publication_id.in_(old)))
    db.session.execute(delete(Publication).where(Publication.territory == territory, Publication.year == year))
    publication = Publication(territory=territory, year=year, cut_off=cut_off, k=k, built_at=utcnow(),
                              cells_published=published, cells_suppressed=suppressed, narrowest=narrowest,
                              programmes=programmes)
    db.session.add(publication)
    db.session.flush()
    if rows:
        for row in rows:
            row["publication_id"] = publication.id
        db.session.execute(insert(PublishedCell), rows)
    releases.keep(territory, year, rows, known)
    releases.keep_sums(territory, year, given, sums)
    return publication


def _components(all_bases: list[BaseTables]) -> list[list[BaseTables]]:
    """Bases audited together: those related by a subset relation, transitively."""
    parent = {b.name: b.name for b in all_bases}

    def root(name):
        while parent[name] != name:
            name = parent[name]
        return name

    for base in all_bases:
        for name, _always in base.subset_of:
            if name in parent:
                parent[root(base.name)] = root(name)
    groups: dict[str, list[BaseTables]] = {}
    for base in all_bases:
        groups.setdefault(root(base.name), []).append(base)
    return list(groups.values())
