"""What the anonymised counts count and by what: the dimensions, their labels, the threshold k, the universes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Integer, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import LABELS
from caseapp.models.accounts import Setting
from caseapp.models.cases import Case
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.models.victims import Victim
from caseapp.services.primitives import commit, require_current

SETTING_K = "suppression_k"
DEFAULT_K = 5
MAX_DIMS = 4

TIME_DIMS = ("year", "semester", "bimester", "quarter", "month")  # coarse to fine
# Each time level and the coarser levels it adds up to (a month is inside a quarter and inside a two-month period).
TIME_PARENTS = {"month": ("quarter", "bimester"), "quarter": ("semester",), "semester": ("year",),
                "bimester": ("year",), "year": (None,)}
TIME_RANK = {"year": 0, "semester": 1, "bimester": 1, "quarter": 2, "month": 3}
# The dimensions a publication counts by, in the order its tables name them (every one alone and by each period
# level, every pair over a year); a unit may have several purposes of exploitation and several provider entities.
COUNT_DIMS = ("entity", "provider_entity", "exploitation_purpose", "trafficking_scope", "identification_source",
              "victim_status", "phase", "status", "age_group", "sex", "gender_identity", "nationality",
              "ethnic_group", "migrant_status", "disability", "lgbtiq")
MULTI_VALUED = frozenset({"exploitation_purpose", "provider_entity"})
DIMENSIONS = TIME_DIMS + COUNT_DIMS
DIM_LABELS = LABELS["stats_dimension"]
# The label group of each dimension's values (caseapp.labels). Time periods, entities, purposes and countries
# are named by value_label(); "unknown" is what a missing value (a NULL nationality, a case without a purpose)
# counts as, never merged with a real value.
VALUE_GROUPS = {"sex": "sex", "trafficking_scope": "trafficking_scope", "phase": "stats_phase", "status": "status",
                "ethnic_group": "ethnic_group", "age_group": "age_group", "nationality": "nationality",
                "gender_identity": "gender_identity", "migrant_status": "migrant_status", "disability": "yes_no",
                "lgbtiq": "yes_no", "identification_source": "identification_source",
                "victim_status": "victim_status"}
VALUE_LABELS = {dim: LABELS[group] for dim, group in VALUE_GROUPS.items() if group in LABELS}
UNKNOWN_VALUE = "unknown"
UNITS = ("cases", "victims")


# --- the threshold ---------------------------------------------------------------------------------------------


def get_k() -> int:
    row = db.session.get(Setting, SETTING_K)
    if row is None:
        return DEFAULT_K
    try:
        k = int(json.loads(row.value))
    except (ValueError, TypeError):
        return DEFAULT_K
    return k if 2 <= k <= 100 else DEFAULT_K


def setting_version() -> int:
    row = db.session.get(Setting, SETTING_K)
    return row.version if row else 0


def set_k(actor, value, version) -> int:
    """An admin sets the suppression threshold k (2..100)."""
    authz.require(actor, "admin.manage")
    try:
        k = int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid(_("Enter a whole number between 2 and 100."),
                      field_errors={"k": _("Enter a whole number between 2 and 100.")}) from None
    if not 2 <= k <= 100:
        raise Invalid(_("Enter a whole number between 2 and 100."),
                      field_errors={"k": _("Enter a whole number between 2 and 100.")})
    row = db.session.get(Setting, SETTING_K)
    stale = _("Someone else changed this setting while you were editing it. Reload it and try again; nothing was "
              "saved.")
    require_current(row.version if row is not None else 0, version, stale=stale)
    old = get_k()
    if row is None:
        db.session.add(Setting(key=SETTING_K, value=json.dumps(k)))
    else:
        row.value = json.dumps(k)
    audit.record("settings.update", object_type="setting", object_ref=SETTING_K, detail={"from": old, "to": k})
    commit(stale)
    return k


# --- SQL cubes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Universe:
    """What is counted: which rows, by which date, counting cases or distinct victims, of which territory (the
    cases owned by entities inside it; `scope.cases_inside`)."""

    name: str = "cases"
    unit: str = "cases"
    basis: str = "identified"  # identified | linked
    conditions: tuple = ()
    official_total: bool = False
    territory: str = "CO"

    def date_col(self):
        return Case.linked_on if self.basis == "linked" else Case.identified_on


VICTIM_DIMS = ("age_group", "sex", "nationality", "ethnic_group")


def _raw_expr(dim: str, universe: Universe):
    """The stored column a dimension is computed from (time from the date, phase from the status, entity by id)."""
    if dim in TIME_DIMS:
        return universe.date_col()
    return {
        "entity": lambda: Case.owner_entity_id,
        "exploitation_purpose": lambda: func.coalesce(ExploitationPurpose.code, UNKNOWN_VALUE),
        "trafficking_scope": lambda: Case.trafficking_scope,
        "age_group": lambda: Victim.age_group,
        "sex": lambda: Victim.sex,
        "nationality": lambda: Victim.nationality,
        "ethnic_group": lambda: Victim.ethnic_group,
        "phase": lambda: Case.status,
        "status": lambda: Case.status,
    }[dim]()


class date_part(FunctionElement):  # noqa: N801 - SQL function style
    """The year or the month of a date column, as an integer, in every dialect we run on."""

    type = Integer()
    inherit_cache = True

    def __init__(self, part: str, column):
        if part not in ("year", "month"):
            raise ValueError(part)
        self.part = part
        super().__init__(column)


@compiles(date_part, "sqlite")
def _date_part_sqlite(element, compiler, **kw):
    # SQLAlchemy stores a Date on SQLite as 'YYYY-MM-DD' text: cutting it is much cheaper than strftime() per row.
    start, length = (1, 4) if element.part == "year" else (6, 2)
    return f"CAST(substr({compiler.process(list(element.clauses)[0], **kw)}, {start}, {length}) AS INTEGER)"


@compiles(date_part)
def _date_part_default(element, compiler, **kw):
    return f"CAST(EXTRACT({element.part.upper()} FROM {compiler.process(list(element.clauses)[0], **kw)}) AS INTEGER)"


def _derive(dim: str, raw):
    """The dimension's value from its stored column `raw` (a column of the tables or of an inner aggregate)."""
    if dim in TIME_DIMS:
        year = date_part("year", raw)
        month = date_part("month", raw)
        return {
            "year": lambda: year,
            "semester": lambda: year * 10 + (month + 5) // 6,
            "bimester": lambda: year * 10 + (month + 1) // 2,
            "quarter": lambda: year * 10 + (month + 2) // 3,
            "month": lambda: year * 100 + month,
        }[dim]()
    if dim == "phase":
        return db.case(
            (raw == "identified", "identification"),
            (raw == "in_immediate_assistance", "immediate"),
            (raw == "in_mediate_assistance", "mediate"),
            else_="closed")
    return raw


def _dim_expr(dim: str, universe: Universe):
    return _derive(dim, _raw_expr(dim, universe))


def _format(dim: str, raw) -> str:
    if raw is None:
        return UNKNOWN_VALUE
    if dim == "year":
        return str(int(raw))
    if dim in ("quarter", "semester", "bimester"):
        raw = int(raw)
        return f"{raw // 10}-{dim[0].upper()}{raw % 10}"
    if dim == "month":
        raw = int(raw)
        return f"{raw // 100}-{raw % 100:02d}"
    return str(raw)


def time_value(value: str, dim: str, target: str) -> str | None:
    """The `target`-level period containing a `dim`-level period value (None when it is not inside one)."""
    if dim == target:
        return value
    year, _sep, rest = value.partition("-")
    if target == "year":
        return year
    if dim == "month":
        month = int(rest)
        number = {"quarter": (month + 2) // 3, "semester": (month + 5) // 6, "bimester": (month + 1) // 2}[target]
        return f"{year}-{target[0].upper()}{number}"
    if dim == "quarter" and target == "semester":
        return f"{year}-S{(int(rest[1:]) + 1) // 2}"
    return None


def _in_order(cube: dict[tuple, int]) -> dict[tuple, int]:
    """A cube's cells in the order of their values. Complementary suppression visits lines and cells in this order,
    so it must not depend on the order in which a database happens to return groups."""
    return dict(sorted(cube.items()))


def canonical(dims) -> tuple[str, ...]:
    dims = tuple(dict.fromkeys(dims))
    return tuple(sorted(dims, key=DIMENSIONS.index))


def _sample_value(dim: str) -> str:
    return {"year": "2000", "semester": "2000-S1", "bimester": "2000-B1", "quarter": "2000-Q1",
            "month": "2000-01"}[dim]
