"""What the anonymised counts count and by what: the dimensions, their labels, the threshold k, the periods.
"""
from __future__ import annotations

import json

from flask import g, has_request_context
from flask_babel import gettext as _

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import LABELS
from caseapp.models.accounts import Setting
from caseapp.services.primitives import commit, require_current

SETTING_K = "suppression_k"
DEFAULT_K = 5

TIME_DIMS = ("year", "semester", "bimester", "quarter", "month")  # coarse to fine
# The dimensions a publication counts by, in the order its tables name them (every one alone and by each period
# level, every pair over a year); a unit may have several purposes of exploitation and several provider entities.
COUNT_DIMS = ("entity", "provider_entity", "exploitation_purpose", "trafficking_scope", "identification_source",
              "victim_status", "phase", "status", "age_group", "sex", "gender_identity", "nationality",
              "ethnic_group", "migrant_status", "disability", "lgbtiq")
# A case's places, by department (a municipality is finer than the counts need), and how she was recruited: counted
# and protected like every other dimension (services.registry.places).
PLACE_DIMS = ("exploitation_department", "recruitment_department", "destination_country", "recruitment_method")
DEPARTMENT_DIMS = {"exploitation_department": "exploitation_municipality",
                   "recruitment_department": "recruitment_municipality"}
COUNT_DIMS += PLACE_DIMS
# ...published over a year and by themselves only: by month and paired with every other dimension they tripled the
# linear programmes a publication's protection solves (3,579 against 1,026 at 100,000 victims: a national build did
# not finish), and a department's month, or a department by age group, is the finest figure there would be to read a
# woman from. publication.tables.published is the rule; the build and every reader ask it.
YEAR_ALONE_DIMS = frozenset(PLACE_DIMS)
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
                "victim_status": "victim_status", "destination_country": "nationality",
                "recruitment_method": "recruitment_method", "relationship": "relationship"}
VALUE_LABELS = {dim: LABELS[group] for dim, group in VALUE_GROUPS.items() if group in LABELS}
UNKNOWN_VALUE = "unknown"
UNITS = ("cases", "victims")

# Family members who received assistance (indirect victims, Law 985) and their assistance steps: bases of their own
# (publication/family.py), never mixed into the direct victims' - a base counts members, the other their steps.
# Their dimensions, in the order their tables name them: the relationship to the victim, the department of the case
# (of the territory of the entity that owns it: the route attending her and her family; "CO" for a national
# entity) and, for steps, the kind of step. Never a member's identity.
FAMILY_MEMBERS, FAMILY_STEPS = "family:members", "family:steps"
FAMILY_DIMS = ("relationship", "department", "step_kind")
FAMILY_BASES = {FAMILY_MEMBERS: ("relationship", "department"), FAMILY_STEPS: FAMILY_DIMS}
FAMILY_UNITS = {"members": FAMILY_MEMBERS, "steps": FAMILY_STEPS}
NATIONAL_DEPARTMENT = "CO"


# --- the threshold ---------------------------------------------------------------------------------------------


def get_k() -> int:
    """The threshold in force, read once per request (a page asks for it for every table it shows)."""
    if has_request_context():
        if "_suppression_k" not in g:
            g._suppression_k = _read_k()
        return g._suppression_k
    return _read_k()


def _read_k() -> int:
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
    g.pop("_suppression_k", None)
    return k


# --- periods and dimension names ---------------------------------------------------------------------------


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


def dimensions_of(base: str) -> tuple[str, ...]:
    """The dimensions a base's tables can be asked by: a family base's own, else the cases'."""
    if base in FAMILY_BASES:
        return TIME_DIMS + FAMILY_BASES[base]
    return DIMENSIONS


_ORDER = DIMENSIONS + FAMILY_DIMS  # no base mixes the cases' dimensions with the family's


def canonical(dims) -> tuple[str, ...]:
    """Dimensions in the order a publication's tables name them."""
    dims = tuple(dict.fromkeys(dims))
    return tuple(sorted(dims, key=_ORDER.index))


def _sample_value(dim: str) -> str:
    return {"year": "2000", "semester": "2000-S1", "bimester": "2000-B1", "quarter": "2000-Q1",
            "month": "2000-01"}[dim]
