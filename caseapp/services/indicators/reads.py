"""Every statistics read writes the access log: what was asked, never what was answered.

A coordinator who sends many overlapping questions (a cut-off date stepped a day at a time, a quarter and the
two-month period beside it) can work a small count out of the answers; the log, and the `stats_burst` alert read
from it, are how an auditor sees that happen. So every entry point that answers counts (screens, API, files, CLI)
is wrapped by `logged`, the one owner of this rule:

- it writes one `stats.read` row (object "report", ref = what was read) after the answer is computed, and commits
  it, so no figure leaves without its row;
- a read made inside another one (the dashboard's breakdowns, a file's tables) is not logged again: the outer
  call, or the file's `stats.export` row (`export_scope`), already says what was asked;
- a question refused as invalid is logged as denied; 403 and 404 are logged by the app's error handler, as for
  case reads.

The row's detail holds codes of the question only: dimensions, filters with their values when they are values
of the dimension's catalogue (anything else, a document number typed as a filter included, is `OTHER`),
period, basis, unit, cut-off date, product and policy. Never a count.
"""
from __future__ import annotations

import functools
import inspect
import re
from contextvars import ContextVar
from datetime import date

from sqlalchemy import select

from caseapp import audit
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import LABELS
from caseapp.models import territory as territories
from caseapp.models.accounts import Entity
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.models.route import StepKind
from caseapp.services.indicators.dimensions import (
    DEPARTMENT_DIMS,
    DIMENSIONS,
    FAMILY_DIMS,
    FAMILY_UNITS,
    NATIONAL_DEPARTMENT,
    UNITS,
    UNKNOWN_VALUE,
    VALUE_GROUPS,
)
from caseapp.services.indicators.formulas import FORMULAS
from caseapp.services.primitives import commit_read
from caseapp.services.registry import COUNTRY_CODES

READ = "stats.read"
EXPORT = "stats.export"
OBJECT_TYPE = "report"
OTHER = audit.OMITTED  # a value asked that is not one of the dimension's codes: not written as typed
BASES = ("identified", "linked")
_PERIOD = re.compile(r"\d{4}(-(S[12]|B[1-6]|[QT][1-4]|(0?[1-9]|1[0-2])))?", re.IGNORECASE)
_TERRITORY = re.compile(r"CO|\d{2}|\d{5}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")

_inside: ContextVar[bool] = ContextVar("stats_read_inside", default=False)
ASKABLE = DIMENSIONS + FAMILY_DIMS  # every dimension a question may name, of the cases' bases or the family's


# --- what was asked, as codes ----------------------------------------------------------------------------------


def _known(dim: str, value: str) -> bool:
    """Whether `value` is one of the codes of dimension `dim` (so it may be written to the log)."""
    if value == UNKNOWN_VALUE:
        return True
    if dim in ("nationality", "destination_country"):
        return value in COUNTRY_CODES
    if dim in DEPARTMENT_DIMS:
        return value in territories.DEPARTMENTS
    if dim == "department":
        return value in territories.DEPARTMENTS or value == NATIONAL_DEPARTMENT
    if dim == "step_kind":
        return _in_table(StepKind.code, value)
    if dim in VALUE_GROUPS:
        return value in LABELS.get(VALUE_GROUPS[dim], {})
    if dim.endswith("entity"):
        return _in_table(Entity.code, value)
    if dim == "exploitation_purpose":
        return _in_table(ExploitationPurpose.code, value)
    return False


def _in_table(column, value: str) -> bool:
    return _CODE.fullmatch(value) is not None and db.session.scalar(
        select(column).where(column == value).limit(1)) is not None


def _dims(value) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return [d if d in ASKABLE else OTHER for d in (str(i).strip() for i in items) if d]


def _filters(value) -> dict:
    out, unknown = {}, 0
    for dim, raw in (value or {}).items():
        if raw in (None, ""):
            continue
        if dim not in ASKABLE:
            unknown += 1  # a key that is no dimension: counted, never named
            continue
        raw = str(raw).strip()
        out[dim] = raw if _known(dim, raw) else OTHER
    return {"filters": out, **({"unknown_filters": unknown} if unknown else {})}


def _code(value: str, allowed) -> str:
    value = str(value).strip()
    if callable(allowed):
        return value if allowed(value) else OTHER
    return value if value in allowed else OTHER


# How each argument of a logged entry point is written: by its name, the vocabulary it must belong to.
_ARGS = {
    "by": _dims,
    "dim": lambda v: _code(v, ASKABLE),
    "unit": lambda v: _code(v, UNITS + tuple(FAMILY_UNITS)),
    "basis": lambda v: _code(v, BASES),
    "base": lambda v: _code(v, lambda s: re.fullmatch(r"[a-z_]+(:[a-z0-9_]+)*", s) is not None),
    "formula": lambda v: _code(v, FORMULAS),
    "period": lambda v: _code(v, lambda s: _PERIOD.fullmatch(s) is not None),
    "territory": lambda v: _code(v, lambda s: _TERRITORY.fullmatch(s) is not None),
    # A product or policy is logged once the service found it (a code that found nothing is a 404, logged by the
    # error handler without it); still only a code-shaped one.
    "code": lambda v: _code(v, lambda s: _CODE.fullmatch(s) is not None),
    "policy": lambda v: _code(v, lambda s: _CODE.fullmatch(s) is not None),
}


def asked(arguments: dict, names: dict | None = None) -> dict:
    """The question as the log may hold it (see the module docstring), each argument under its name or the one
    `names` gives it (a product's `code` logged as "product"). Blank ones and the actor are left out."""
    out: dict = {}
    for name, value in arguments.items():
        if value is None or value == "" or name in ("actor", "check"):
            continue
        if name == "filters":
            out.update(_filters(value))
        elif name == "product" and hasattr(value, "code"):
            out[name] = _code(value.code, lambda s: _CODE.fullmatch(s) is not None)
        elif name in _ARGS:
            out[name] = _ARGS[name](value)
        elif isinstance(value, date):
            out[name] = value.isoformat()
        elif isinstance(value, bool | int):
            out[name] = value
        elif isinstance(value, list | tuple):  # e.g. the dimensions of a product's breakdowns
            out[name] = _dims(value)
        else:
            out[name] = OTHER
    for name, new_name in (names or {}).items():
        if name in out:
            out[new_name] = out.pop(name)
    return out


# --- writing the row -------------------------------------------------------------------------------------------


def log_read(actor, what: str, question: dict, *, outcome: str = "allowed") -> None:
    """One `stats.read` row for `what` ("stats_cases", "product_progress", "policy_summary", "dashboard",
    "breakdown"...) with `question` (from `asked`), committed with the read."""
    if outcome == "allowed":
        audit.record(READ, object_type=OBJECT_TYPE, object_ref=what, detail=question, actor=actor)
        commit_read()
    else:  # the request failed: its own transaction, whatever the read left in the session
        audit.record_and_commit(READ, object_type=OBJECT_TYPE, object_ref=what, detail=question, actor=actor,
                                outcome=outcome)


def logged(what: str, **names: str):
    """Decorate a service entry point `fn(actor, ...)` that answers counts (see the module docstring); `names`
    renames arguments in the row (code="product")."""

    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if _inside.get():
                return fn(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            actor = bound.arguments.get("actor")
            token = _inside.set(True)
            try:
                result = fn(*args, **kwargs)
            except Invalid as error:
                question = asked(bound.arguments, names)
                if error.rule:
                    question["rule"] = error.rule
                log_read(actor, what, question, outcome="denied")
                raise
            finally:
                _inside.reset(token)
            log_read(actor, what, asked(bound.arguments, names))
            return result

        wrapper.__stats_read__ = what
        wrapper.__stats_log__ = (what, names, signature)
        return wrapper

    return decorate


def log_as(fn, *args, **kwargs) -> None:
    """Write the row that `fn` (a service decorated with `logged`) writes when called with these arguments: for an
    answer served from a cache, which is read as often, by whom and for what, as one counted afresh."""
    what, names, signature = fn.__stats_log__
    bound = signature.bind(*args, **kwargs)
    log_read(bound.arguments.get("actor"), what, asked(bound.arguments, names))


def export_scope(fn):
    """Decorate a file export: the reads it makes are not logged one by one, its `stats.export` row says what
    was exported."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        token = _inside.set(True)
        try:
            return fn(*args, **kwargs)
        finally:
            _inside.reset(token)

    wrapper.__stats_export__ = True
    return wrapper
