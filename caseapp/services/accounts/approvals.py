"""Four eyes: a change of roles or entity that `administration.four_eyes_required` names is stored as a pending
request and applied only when a second admin approves it.

Both steps are in the request table and the access log. Nobody approves a request she made, nor one about her own
account; the command-line operator is nobody in particular, so it neither approves nor stands in for a second
admin; and a deployment without another active admin to approve cannot make such a change at all.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from caseapp.errors import Conflict, Forbidden, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import AccountChangeRequest, Entity, User, UserRole
from caseapp.services.accounts import sessions
from caseapp.services.accounts.administration import (
    SystemActor,
    _record,
    _require,
    note_roles,
)
from caseapp.timeutil import utcnow


def _approvers_besides(*usernames: str) -> int:
    """Active admins of active entities other than the named accounts: who could approve."""
    return db.session.scalar(
        select(func.count(User.id))
        .join(UserRole, UserRole.user_id == User.id)
        .join(Entity, Entity.id == User.entity_id)
        .where(UserRole.role == "admin", User.active.is_(True), Entity.active.is_(True),
               User.username.not_in(usernames))
    )


def require_approver(actor, username: str) -> None:
    """Conflict when no active admin but `actor` and the account itself could approve a change to `username`
    (checked before anything is written)."""
    if not _approvers_besides(actor.username, username):
        raise Conflict(_("Only a second active admin can approve this change (a case role, the admin role, or a "
                         "move to another entity), and this deployment has no other admin who could. Nothing was "
                         "changed: accounts can be set up from the command line."), rule="four_eyes_no_second_admin")


def request_change(actor, user: User, *, roles, entity: Entity) -> AccountChangeRequest:
    """Store the wanted roles and entity of `user` for a second admin (the caller commits). An older pending
    request for the same account is superseded: only the latest one can be approved."""
    require_approver(actor, user.username)
    now = utcnow()
    superseded = db.session.execute(
        update(AccountChangeRequest)
        .where(AccountChangeRequest.user_id == user.id, AccountChangeRequest.status == "pending")
        .values(status="superseded", decided_at=now, decided_by=actor.username)
    ).rowcount or 0
    request = AccountChangeRequest(user_id=user.id, base_version=user.version, roles=",".join(sorted(set(roles))),
                                   entity_id=entity.id, status="pending", requested_by=actor.username,
                                   requested_at=now)
    db.session.add(request)
    db.session.flush()
    _record(actor, "admin.user.change.request", object_type="user", object_ref=user.username,
            detail={"request": request.id, "roles": request.role_list, "entity": entity.code,
                    "superseded": superseded})
    return request


def pending_changes(actor, user: User | None = None) -> list[AccountChangeRequest]:
    """Pending requests, oldest first (of one account when `user` is given)."""
    _require(actor)
    query = select(AccountChangeRequest).where(AccountChangeRequest.status == "pending")
    if user is not None:
        query = query.where(AccountChangeRequest.user_id == user.id)
    return list(db.session.scalars(query.order_by(AccountChangeRequest.id)))


def _pending(request_id) -> AccountChangeRequest:
    """The pending request, locked (FOR UPDATE; SQLite: the write lock) so that two decisions cannot both pass."""
    try:
        request_id = int(request_id)
    except (TypeError, ValueError):
        request_id = 0
    if not 0 < request_id < 2**31:  # a hostile id in the URL must not overflow the database's integer
        raise NotFound(_("There is no such request."))
    stmt = select(AccountChangeRequest).where(AccountChangeRequest.id == request_id).with_for_update(
        of=AccountChangeRequest)
    request = db.session.scalar(stmt.execution_options(populate_existing=True))
    if request is None:
        raise NotFound(_("There is no such request."))
    if request.status != "pending":
        raise Conflict(_("This request was already decided or replaced by a newer one; nothing was changed."),
                       rule="four_eyes_decided")
    return request


def _second_admin(actor, request: AccountChangeRequest) -> None:
    if isinstance(actor, SystemActor) or getattr(actor, "id", None) is None:
        raise Forbidden(_("A request is approved by a second admin signed in with her own account, not from the "
                          "command line."), rule="four_eyes_not_a_person")
    if actor.username == request.requested_by:
        raise Forbidden(_("You cannot approve your own request: another admin must do it."),
                        rule="four_eyes_own_request")
    if actor.id == request.user_id:
        raise Forbidden(_("You cannot approve a change to your own account: another admin must do it."),
                        rule="four_eyes_own_account")


def approve_change(actor, request_id) -> User:
    """A second admin applies the request: the account gets the requested roles and entity now."""
    _require(actor)
    request = _pending(request_id)
    _second_admin(actor, request)
    user = request.user
    if user.version != request.base_version:
        raise Conflict(_("The account changed after this request was made; ask again. Nothing was changed."),
                       rule="four_eyes_stale")
    if not request.entity.active:
        raise Conflict(_("The entity %(code)s is inactive; reactivate it first.", code=request.entity.code),
                       rule="four_eyes_entity_inactive")
    before = set(user.roles)
    now = utcnow()
    request.status, request.decided_by, request.decided_at = "approved", actor.username, now
    changed = []
    if request.entity_id != user.entity_id:
        changed.append("entity")
        user.entity = request.entity
    if set(request.role_list) != before:
        changed.append("roles")
        user.set_roles(request.role_list)
    if changed:  # a token's scope was the old one's
        sessions.revoke_api_tokens(user, "role_change")
    user.updated_at = now
    _record(actor, "admin.user.change.approve", object_type="user", object_ref=user.username,
            detail={"request": request.id, "requested_by": request.requested_by, "fields": changed,
                    "roles": request.role_list, "entity": request.entity.code})
    note_roles(actor, user, before, requested_by=request.requested_by)
    db.session.commit()
    return user


def reject_change(actor, request_id) -> AccountChangeRequest:
    """Turn a request down (any admin, the one who made it included: that withdraws it)."""
    _require(actor)
    request = _pending(request_id)
    request.status, request.decided_by, request.decided_at = "rejected", actor.username, utcnow()
    _record(actor, "admin.user.change.reject", object_type="user", object_ref=request.user.username,
            detail={"request": request.id, "requested_by": request.requested_by})
    db.session.commit()
    return request
