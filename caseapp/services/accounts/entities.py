"""Administration of entities: the rules behind the admin screens and the `flask entities` CLI.

An entity's code never changes (it prefixes every case code); an entity is deactivated, never deleted.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from caseapp.errors import Conflict, Forbidden, NotFound
from caseapp.extensions import db
from caseapp.models import territory as territories
from caseapp.models.accounts import ENTITY_KINDS, Entity, User, UserRole
from caseapp.services.accounts import sessions
from caseapp.services.accounts.administration import (
    ENTITY_CODE_RE,
    NAME_MAX,
    _raise_if,
    _record,
    _require,
    _stale_entity,
    normalise_entity_code,
)
from caseapp.services.primitives import (
    require_version,
)


def _entity(code: str) -> Entity:
    entity = db.session.scalar(select(Entity).where(Entity.code == normalise_entity_code(code)))
    if entity is None:
        raise NotFound(_("There is no entity with that code."))
    return entity



def get_entity(actor, code: str) -> Entity:
    _require(actor)
    return _entity(code)


def entity_directory(actor) -> list[Entity]:
    """The route's entities (code, name, kind, territory), for anyone signed in: whom to refer to, whose counts."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Forbidden(_("Sign in first."))
    return list(db.session.scalars(select(Entity).order_by(Entity.code)))


def list_entities(actor, *, active_only: bool = False) -> list[Entity]:
    _require(actor)
    query = select(Entity).order_by(Entity.code)
    if active_only:
        query = query.where(Entity.active.is_(True))
    return list(db.session.scalars(query))





def _clean_entity_fields(name: str | None, kind: str | None, errors: dict) -> tuple[str, str]:
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = [_("Enter the entity's name.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("At most %(n)s characters.", n=NAME_MAX)]
    kind = (kind or "").strip()
    if kind not in ENTITY_KINDS:
        errors["kind"] = [_("Unknown kind: %(kind)s. Choose among: %(known)s.", kind=kind or "—",
                            known=", ".join(ENTITY_KINDS))]
    return name, kind


def _clean_territory(code, errors: dict) -> str:
    code, error = territories.clean(code)
    if error:
        errors["territory"] = [error]
    return code


def create_entity(actor, *, code: str, name: str, kind: str, territory: str | None = None) -> Entity:
    _require(actor)
    errors: dict[str, list[str]] = {}
    code = normalise_entity_code(code)
    if not ENTITY_CODE_RE.match(code):
        errors["code"] = [_("Use 2 to 16 capital letters or digits, starting with a letter (it prefixes case "
                            "codes, e.g. CTG-2025-00042).")]
    elif db.session.scalar(select(Entity.id).where(Entity.code == code)) is not None:
        errors["code"] = [_("The entity code %(code)s is already in use.", code=code)]
    name, kind = _clean_entity_fields(name, kind, errors)
    territory = _clean_territory(territory, errors)
    _raise_if(errors)
    entity = Entity(code=code, name=name, kind=kind, territory=territory, active=True)
    db.session.add(entity)
    db.session.flush()
    _record(actor, "admin.entity.create", object_type="entity", object_ref=code,
            detail={"kind": kind, "territory": territory})
    db.session.commit()
    return entity


def update_entity(actor, code: str, *, version, name: str, kind: str, territory: str | None = None) -> Entity:
    """Change an entity's name, kind and territory (kept when not given). The code never changes: it is part of
    every case code."""
    _require(actor)
    entity = _entity(code)
    require_version(entity, version, stale=_stale_entity())
    errors: dict[str, list[str]] = {}
    name, kind = _clean_entity_fields(name, kind, errors)
    territory = entity.territory if territory is None else _clean_territory(territory, errors)
    _raise_if(errors)
    changed = [f for f, v in (("name", name), ("kind", kind), ("territory", territory)) if getattr(entity, f) != v]
    if not changed:
        return entity
    entity.name, entity.kind, entity.territory = name, kind, territory
    _record(actor, "admin.entity.update", object_type="entity", object_ref=entity.code,
            detail={"fields": changed, "kind": kind, "territory": territory})
    db.session.commit()
    return entity


def deactivate_entity(actor, code: str, *, version) -> Entity:
    """Nobody of an inactive entity can sign in; their open sessions end now. Its cases stay."""
    _require(actor)
    entity = _entity(code)
    require_version(entity, version, stale=_stale_entity())
    if not entity.active:
        raise Conflict(_("The entity %(code)s is already inactive.", code=entity.code))
    if getattr(actor, "entity_id", None) == entity.id:
        raise Conflict(_("You cannot deactivate your own entity; ask an admin of another entity."))
    admins_elsewhere = db.session.scalar(
        select(func.count(User.id))
        .join(UserRole, UserRole.user_id == User.id)
        .join(Entity, Entity.id == User.entity_id)
        .where(UserRole.role == "admin", User.active.is_(True), Entity.active.is_(True), Entity.id != entity.id)
    )
    if not admins_elsewhere:
        raise Conflict(_("No active admin would be left; give the admin role to someone in another entity first."))
    entity.active = False
    ended = 0
    for user in db.session.scalars(select(User).where(User.entity_id == entity.id, User.active.is_(True))):
        ended += sessions.end_all(user, "admin")
        sessions.revoke_api_tokens(user, "deactivation")  # reactivating the entity must not bring them back
    _record(actor, "admin.entity.deactivate", object_type="entity", object_ref=entity.code,
            detail={"sessions_ended": ended})
    db.session.commit()
    return entity


def reactivate_entity(actor, code: str, *, version) -> Entity:
    _require(actor)
    entity = _entity(code)
    require_version(entity, version, stale=_stale_entity())
    if entity.active:
        raise Conflict(_("The entity %(code)s is already active.", code=entity.code))
    entity.active = True
    _record(actor, "admin.entity.reactivate", object_type="entity", object_ref=entity.code)
    db.session.commit()
    return entity
