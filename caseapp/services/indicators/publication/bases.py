"""The rows a publication counts, read from the database: statistical columns only, nothing decrypted.

Bases of a territory's publication for a year (up to its cut-off day):
- `identified`, `linked`: the cases identified (linked: vinculación) in the year, by that date; and
  `identified:victims`, `linked:victims`: the same counted as distinct victims, each at her first case of the year;
- `product:<id>` for every computed product of a policy inside the territory: the formula's rows (a distinct unit at
  its first qualifying date of the year); a share has `product:<id>:num` and `product:<id>:den`.
A unit's dimensions are those of its case.
The events of the route are bases of their own (events.py), and so are the family members who received assistance
and their steps (family.py), never counted among the victims.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case, case_purposes
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.models.route import AssistanceStep
from caseapp.models.victims import Victim
from caseapp.services.indicators.dimensions import COUNT_DIMS, DEPARTMENT_DIMS, MULTI_VALUED
from caseapp.services.indicators.publication.tables import Record
from caseapp.services.indicators.scope import cases_inside

DIMS, MULTI = COUNT_DIMS, MULTI_VALUED
PHASES = {"identified": "identification", "in_immediate_assistance": "immediate",
          "in_mediate_assistance": "mediate"}
# the phase is computed from the status: published as a dimension of its own, tied to it by sums
DERIVED = {"phase": ("status", lambda status: PHASES.get(status, "closed"))}

_COLUMNS = (
    ("trafficking_scope", Case.trafficking_scope), ("identification_source", Case.identification_source),
    ("victim_status", Case.victim_status), ("status", Case.status), ("age_group", Victim.age_group),
    ("sex", Victim.sex), ("gender_identity", Victim.gender_identity), ("nationality", Victim.nationality),
    ("ethnic_group", Victim.ethnic_group), ("migrant_status", Victim.migrant_status),
    ("disability", Victim.disability), ("lgbtiq", Victim.lgbtiq),
    ("destination_country", Case.destination_country), ("recruitment_method", Case.recruitment_method),
    *((dim, getattr(Case, column)) for dim, column in DEPARTMENT_DIMS.items()),
)


def case_dims(case_ids, cut_off: date) -> dict[int, dict]:
    """The dimensions of the cases selected by `case_ids` (a select of case ids), as of `cut_off`."""
    stmt = (select(Case.id, Case.victim_id, Entity.code, *[c for _n, c in _COLUMNS])
            .join(Victim, Victim.id == Case.victim_id).join(Entity, Entity.id == Case.owner_entity_id)
            .where(Case.id.in_(case_ids)))
    found: dict[int, dict] = {}
    for row in db.session.execute(stmt):
        values = {"victim": row[1], "entity": row[2]}
        for (name, _col), value in zip(_COLUMNS, row[3:], strict=True):
            values[name] = value
        values["phase"] = PHASES.get(values["status"], "closed")
        for dim in DEPARTMENT_DIMS:  # a municipality counts in its department (the first two DANE digits)
            values[dim] = values[dim][:2] if values[dim] else None
        values["exploitation_purpose"] = []
        values["provider_entity"] = []
        found[row[0]] = values
    purposes = (select(case_purposes.c.case_id, ExploitationPurpose.code)
                .join(ExploitationPurpose, ExploitationPurpose.id == case_purposes.c.purpose_id)
                .where(case_purposes.c.case_id.in_(case_ids)))
    for case_id, code in db.session.execute(purposes):
        if case_id in found:
            found[case_id]["exploitation_purpose"].append(code)
    providers = (select(AssistanceStep.case_id, Entity.code).distinct()
                 .join(Entity, Entity.id == AssistanceStep.provider_entity_id)
                 .where(AssistanceStep.case_id.in_(case_ids), AssistanceStep.status == "done",
                        AssistanceStep.done_on <= cut_off))
    for case_id, code in db.session.execute(providers):
        if case_id in found:
            found[case_id]["provider_entity"].append(code)
    for values in found.values():
        values["exploitation_purpose"] = tuple(sorted(values["exploitation_purpose"])) or ("unknown",)
        values["provider_entity"] = tuple(sorted(values["provider_entity"])) or ("none",)
    return found


def case_records(territory: str, start: date, end: date, basis: str) -> tuple[list[Record], list[Record]]:
    """The cases of `territory` identified (or linked) in [start, end]: as cases, and as distinct victims (each at
    her first case of the span)."""
    column = Case.linked_on if basis == "linked" else Case.identified_on
    ids = select(Case.id).where(column >= start, column <= end, *cases_inside(territory))
    dims = case_dims(ids, end)
    dated = dict(db.session.execute(select(Case.id, column).where(Case.id.in_(ids))).all())
    cases = [Record(dated[cid], values) for cid, values in sorted(dims.items())]
    first: dict[int, tuple] = {}
    for cid, values in dims.items():
        mark = (dated[cid], cid)
        if values["victim"] not in first or mark < first[values["victim"]]:
            first[values["victim"]] = mark
    victims = [Record(on, dims[cid]) for on, cid in sorted(first.values())]
    return cases, victims


def unit_records(rows, end: date) -> list[Record]:
    """A formula's rows (a select of unit_id, case_id, counted_on) as records: each unit once, at its first
    qualifying date (ties by case)."""
    sub = rows.subquery()
    first: dict = {}
    for unit, case_id, on in db.session.execute(select(sub.c.unit_id, sub.c.case_id, sub.c.counted_on)):
        if on is None:
            continue
        mark = (on, case_id)
        if unit not in first or mark < first[unit]:
            first[unit] = mark
    dims = case_dims(select(sub.c.case_id), end)
    return [Record(on, dims[cid]) for on, cid in sorted(first.values()) if cid in dims]
