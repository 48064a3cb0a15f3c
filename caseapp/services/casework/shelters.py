"""Shelters (casas de acogida): capacity, stays, free beds. A stay is a lodging step of the case.

Capacity is never exceeded, even with two placements at once: the shelter row is locked (SELECT ... FOR UPDATE;
on SQLite that takes the database's write lock, caseapp.database) before counting its open stays.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from caseapp import audit, authz
from caseapp.errors import Conflict, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case
from caseapp.models.route import Shelter, ShelterStay
from caseapp.services.casework import steps as step_service
from caseapp.services.primitives import (
    clean_text,
    commit,
    commit_read,
    invalid,
    load_case_for,
    not_future,
    parse_date,
    require_version,
    whole_number,
)
from caseapp.services.route.lifecycle import require_open


@dataclass
class ShelterRow:
    shelter: Shelter
    occupied: int

    @property
    def free(self) -> int:
        return max(self.shelter.capacity - self.occupied, 0)


def _occupancy() -> dict[int, int]:
    rows = db.session.execute(select(ShelterStay.shelter_id, func.count()).where(ShelterStay.left_on.is_(None))
                              .group_by(ShelterStay.shelter_id))
    return {sid: n for sid, n in rows}


def list_shelters(actor, include_inactive: bool = False) -> list[ShelterRow]:
    """Shelters with their current occupancy and free beds (no case data)."""
    if not (authz.can(actor, "shelter.view") or authz.can(actor, "admin.manage")):
        authz.require(actor, "shelter.view")
    query = select(Shelter).order_by(Shelter.name)
    if not include_inactive:
        query = query.where(Shelter.active.is_(True))
    occupancy = _occupancy()
    return [ShelterRow(s, occupancy.get(s.id, 0)) for s in db.session.scalars(query)]


def _open_stays_of_visible_cases(actor) -> list[ShelterStay]:
    # Where she is lodged is part of her identity and contact: another entity sees it only when its referral
    # shares that section. The list shows each case's safety flags: loaded with it (one statement).
    # Asked of each open stay (a few hundred beds at most), not of every case she may see: as a join or an IN,
    # the database read every case of her entity first (40 ms at 20,000, even with no one lodged).
    hers = exists().where(Case.id == ShelterStay.case_id, authz.sees_cases(actor, "identity"))
    return list(db.session.scalars(select(ShelterStay).where(ShelterStay.left_on.is_(None), hers)
                                   .options(selectinload(ShelterStay.case).selectinload(Case.safety_flags))
                                   .order_by(ShelterStay.admitted_on, ShelterStay.id)))


def shelters_page(actor) -> tuple[list[ShelterRow], list[ShelterStay]]:
    """The shelters with their free beds, and the open stays of the cases the actor may see lodged (logged)."""
    authz.require(actor, "shelter.view")
    rows = list_shelters(actor)
    stays = _open_stays_of_visible_cases(actor)
    # One row per case shown, named by its code: where she is lodged is a read of her case, and her case's
    # history ("who accessed") must show it. The page itself is logged even when it shows nobody.
    audit.record("shelter.list", actor=actor, object_type="shelter_stays", object_ref=actor.entity.code,
                 detail={"count": len(stays)})
    for stay in stays:
        audit.record("shelter.stays.view", stay.case, actor=actor)
    commit_read()
    return rows, stays


def stays_of(actor, case: Case) -> list[ShelterStay]:
    """The stays of a case, for a reader who may see her identity and contact (the caller logs the page)."""
    if not authz.can(actor, "case.identity.read", case):
        return []
    return list(db.session.scalars(select(ShelterStay).where(ShelterStay.case_id == case.id)
                                   .order_by(ShelterStay.id)))


def save_shelter(actor, *, shelter_id=None, version=None, code: str, name: str, city: str | None,
                 operator_entity: str, capacity, active: bool = True) -> Shelter:
    """Create or edit a shelter (admin). Capacity cannot drop below the beds in use."""
    authz.require(actor, "admin.manage")
    errors: dict = {}
    code = (code or "").strip().upper()
    if not code or len(code) > 24 or not all(c.isalnum() or c == "-" for c in code):
        errors["code"] = _("Use up to 24 letters, digits or dashes.")
    if not clean_text(name, 200):
        errors["name"] = _("Write the name.")
    try:
        capacity = int(capacity)
    except (TypeError, ValueError):
        capacity = -1
    if not 1 <= capacity <= 1000:
        errors["capacity"] = _("Between 1 and 1000 beds.")
    entity = db.session.scalar(select(Entity).where(Entity.code == (operator_entity or "").strip().upper()))
    if entity is None:
        errors["operator_entity"] = _("Unknown entity.")
    if errors:
        raise invalid(errors)
    if shelter_id:
        shelter = db.session.get(Shelter, int(shelter_id))
        if shelter is None:
            raise NotFound()
        require_version(shelter, version)
        occupied = _occupancy().get(shelter.id, 0)
        if capacity < occupied:
            raise invalid({"capacity": _("%(n)s beds are in use: the capacity cannot be lower.", n=occupied)})
    else:
        if db.session.scalar(select(Shelter.id).where(Shelter.code == code)):
            raise invalid({"code": _("A shelter with this code already exists.")})
        shelter = Shelter(code=code)
        db.session.add(shelter)
    shelter.code, shelter.name, shelter.city = code, clean_text(name, 200), clean_text(city, 80) or ""
    shelter.operator_entity_id, shelter.capacity, shelter.active = entity.id, capacity, bool(active)
    db.session.flush()
    audit.record("shelter.save", shelter, actor=actor, detail={"capacity": capacity})
    commit()
    return shelter


def _lock_shelter(shelter_id: int) -> Shelter | None:
    # of=Shelter: the joined entity is the nullable side of an outer join
    query = select(Shelter).where(Shelter.id == shelter_id).with_for_update(of=Shelter)
    return db.session.scalars(query.execution_options(populate_existing=True)).first()


def place(actor, code: str, *, shelter_id, admitted_on=None, notes: str | None = None) -> ShelterStay:
    """Lodge the victim in a shelter: a lodging step plus a stay, refused when no bed is free."""
    authz.require(actor, "shelter.view")
    case = load_case_for(actor, code, "case.psychosocial.write")
    require_open(case)
    errors: dict = {}
    admitted_on = parse_date(admitted_on, "admitted_on", errors)
    if admitted_on is None and "admitted_on" not in errors:
        errors["admitted_on"] = _("Say the admission date.")
    not_future(admitted_on, "admitted_on", errors)
    shelter_id = whole_number(shelter_id, 1)
    if shelter_id is None:
        errors["shelter_id"] = _("Choose a shelter from the list.")
    if errors:
        raise invalid(errors)
    shelter = _lock_shelter(shelter_id)
    if shelter is None or not shelter.active:
        raise invalid({"shelter_id": _("Choose a shelter from the list.")})
    if db.session.scalar(select(ShelterStay.id).where(ShelterStay.case_id == case.id, ShelterStay.left_on.is_(None))):
        raise Conflict(_("The victim is already lodged in a shelter; record her departure first."),
                       rule="already_lodged")
    occupied = db.session.scalar(select(func.count()).select_from(ShelterStay).where(
        ShelterStay.shelter_id == shelter.id, ShelterStay.left_on.is_(None)))
    if occupied >= shelter.capacity:
        raise Conflict(_("%(shelter)s has no free beds (%(n)s of %(n)s in use). Choose another shelter.",
                         shelter=shelter.name, n=shelter.capacity), rule="no_free_bed")
    step = step_service.add_step(actor, case.code, kind="lodging", status="in_progress", planned_on=admitted_on,
                                 provider_entity=shelter.operator_entity.code, notes=notes, commit_now=False)
    stay = ShelterStay(shelter=shelter, case=case, step=step, admitted_on=admitted_on, placed_by_id=actor.id)
    db.session.add(stay)
    db.session.flush()
    # The log names the stay, never the shelter: where she is lodged is part of her identity (auditors read it).
    audit.record("shelter.place", case, actor=actor, detail={"stay": stay.id})
    commit(_("The shelter changed while you were placing the victim. Reload and try again; nothing was saved."))
    return stay


def end_stay(actor, stay_id: int, *, version, left_on=None) -> ShelterStay:
    stay = db.session.get(ShelterStay, stay_id)
    if stay is None:
        raise NotFound()
    case = load_case_for(actor, stay.case.code, "case.psychosocial.write")
    require_version(stay, version)
    if stay.left_on is not None:
        raise Conflict(_("This stay has already ended."), rule="stay_ended")
    errors: dict = {}
    left_on = parse_date(left_on, "left_on", errors)
    if left_on is None and "left_on" not in errors:
        errors["left_on"] = _("Say the departure date.")
    not_future(left_on, "left_on", errors)
    if left_on and left_on < stay.admitted_on:
        errors["left_on"] = _("The departure cannot be before the admission.")
    if errors:
        raise invalid(errors)
    stay.end(left_on)
    audit.record("shelter.leave", case, actor=actor, detail={"stay": stay.id})
    commit()
    return stay
