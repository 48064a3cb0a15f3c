"""The family members who received assistance (indirect victims, Law 985) and their assistance steps: two bases of a
territory's publication, counted apart from the direct victims (no base of cases, products or events counts them:
their steps are FamilyStep rows, never AssistanceStep) and protected with the rest by the same rules (protect.py).

- `family:members`: each family member with a service done in [start, cut_off], once, in the month of her first one;
- `family:steps`: the services done for family members, each in the month it was done.

Dimensions (dimensions.FAMILY_BASES): the relationship to the victim, the department of the case (of the territory of
the entity that owns it) and, for steps, the kind of step. Only clear catalogue codes are read; a member's encrypted
identity never is. Both count only the cases owned by entities inside the territory.

A member counted in a cell had her first service in it, with the same relationship and department: each cell of
`family:members` is at most the same cell of `family:steps`, a relation any reader may rely on, so the audit models it
(a subset relation, always) and the two bases are protected as one component.
"""
from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models import territory as territories
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case, IndirectVictim
from caseapp.models.route import StepKind
from caseapp.models.safety import FamilyStep
from caseapp.services.indicators.dimensions import (
    FAMILY_BASES,
    FAMILY_MEMBERS,
    FAMILY_STEPS,
    NATIONAL_DEPARTMENT,
)
from caseapp.services.indicators.publication.tables import BaseTables, Record, tabulate
from caseapp.services.indicators.scope import cases_inside


def department(territory: str | None) -> str:
    """The department of an entity's territory (a municipality's first two DANE digits); "CO" for a national one."""
    code = territories.normalise(territory)
    return code[:2] if code and code != territories.NATIONAL else NATIONAL_DEPARTMENT


def family_bases(territory: str, start: date, cut_off: date) -> list[BaseTables]:
    """The two family bases of `territory` for [start, cut_off], the members among the steps."""
    done = [FamilyStep.status == "done", FamilyStep.on >= start, FamilyStep.on <= cut_off, *cases_inside(territory)]
    # Grouped in SQL (each member once; steps by day and values) and weighted by month, as the event bases are.
    first = (select(func.min(FamilyStep.on), IndirectVictim.relationship_kind, Entity.territory)
             .join(IndirectVictim, IndirectVictim.id == FamilyStep.indirect_victim_id)
             .join(Case, Case.id == FamilyStep.case_id).join(Entity, Entity.id == Case.owner_entity_id)
             .where(*done).group_by(FamilyStep.indirect_victim_id, IndirectVictim.relationship_kind,
                                    Entity.territory))
    members: Counter = Counter()
    for on, relationship, where in db.session.execute(first):
        members[(on.replace(day=1), (relationship, department(where)))] += 1
    steps_stmt = (select(FamilyStep.on, IndirectVictim.relationship_kind, Entity.territory, StepKind.code, func.count())
                  .join(IndirectVictim, IndirectVictim.id == FamilyStep.indirect_victim_id)
                  .join(StepKind, StepKind.id == FamilyStep.kind_id)
                  .join(Case, Case.id == FamilyStep.case_id).join(Entity, Entity.id == Case.owner_entity_id)
                  .where(*done).group_by(FamilyStep.on, IndirectVictim.relationship_kind, Entity.territory,
                                         StepKind.code))
    steps: Counter = Counter()
    for on, relationship, where, kind, count in db.session.execute(steps_stmt):
        steps[(on.replace(day=1), (relationship, department(where), kind))] += count
    return family_tables(members, steps, cut_off.month)


def family_tables(members: Counter, steps: Counter, last_month: int) -> list[BaseTables]:
    """The two bases from their counts by (month, values in FAMILY_BASES' order): the members among the steps."""
    made = {name: tabulate(name, [Record(on, dict(zip(FAMILY_BASES[name], key, strict=True)), weight)
                                  for (on, key), weight in sorted(counts.items())],
                           FAMILY_BASES[name], last_month=last_month)
            for name, counts in ((FAMILY_MEMBERS, members), (FAMILY_STEPS, steps))}
    made[FAMILY_MEMBERS].subset_of = [(FAMILY_STEPS, True)]
    return list(made.values())
