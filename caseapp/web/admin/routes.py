"""Admin screens: users and entities. Views parse the form, call one service in caseapp.services.accounts, render."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields import SelectChoice

from caseapp.authz import action_required
from caseapp.errors import Conflict, Forbidden, Invalid, NotFound
from caseapp.extensions import db
from caseapp.services import accounts as service
from caseapp.web.admin import bp
from caseapp.web.admin.forms import (
    DecisionForm,
    EntityCreateForm,
    EntityEditForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
    VersionForm,
    entity_choices,
)

admin_only = action_required("admin.manage")


def _apply_errors(form, error: Invalid) -> None:
    """Tie a service's field errors to the form's fields (or show them at the top)."""
    for name, messages in error.field_errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors or []) + list(messages)
        else:
            flash(" ".join(messages), "error")
    if not error.field_errors and error.message:
        flash(error.message, "error")


def _entity_choices(current=None):
    entities = service.list_entities(current_user, active_only=True)
    if current is not None and current not in entities:
        entities = [current, *entities]
    return entity_choices(entities)


# --- users ---------------------------------------------------------------------------------------------


@bp.route("/users")
@admin_only
def users():
    entity_options = [SelectChoice("", _("All entities")), *entity_choices(service.list_entities(current_user))]
    filters = UserFilterForm(request.args)
    filters.entity.choices = entity_options
    if not filters.validate():  # an unknown entity or status in the URL: show everyone
        filters = UserFilterForm(formdata=None)
        filters.entity.choices = entity_options
    page = request.args.get("page", 1, type=int)
    result = service.list_users(current_user, entity_code=filters.entity.data or None,
                                status=filters.status.data or None, page=page)
    return render_template("admin/users.html", result=result, filters=filters)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new():
    form = UserCreateForm()
    form.entity.choices = _entity_choices()
    status = 200
    if form.validate_on_submit():
        try:
            user = service.create_user(
                current_user, username=form.username.data, display_name=form.display_name.data,
                entity_code=form.entity.data, roles=form.roles.data, password=form.password.data,
                must_change_password=True)
        except Invalid as error:
            _apply_errors(form, error)
        except Conflict as error:  # no second admin who could approve: nothing was created
            db.session.rollback()  # nothing half done is committed by a later write
            form.roles.errors = [*form.roles.errors, error.message]
            return render_template("admin/user_new.html", form=form), error.status
        else:
            if user.pending_change is not None:
                flash(_("User %(username)s created. Its roles that give access to case data (or administration) "
                        "wait for a second admin's approval.", username=user.username), "info")
            else:
                flash(_("User %(username)s created.", username=user.username), "success")
            return redirect(url_for("admin.user_detail", username=user.username))
    if form.is_submitted():
        status = 422
    return render_template("admin/user_new.html", form=form), status


def _render_user(user, form=None, status=200):
    if form is None:
        form = UserEditForm(formdata=None, obj=user, version=user.version, entity=user.entity.code,
                            roles=sorted(user.roles))
    form.entity.choices = _entity_choices(user.entity)
    return render_template(
        "admin/user_detail.html", user=user, form=form, action_form=VersionForm(formdata=None, version=user.version),
        sessions=service.live_session_count(current_user, user),
        pending=service.pending_changes(current_user, user),
        tokens=service.live_token_count(current_user, user), is_self=user.id == current_user.id,
    ), status


@bp.route("/users/<username>", methods=["GET", "POST"])
@admin_only
def user_detail(username):
    user = service.get_user(current_user, username)
    if request.method == "GET":
        return _render_user(user)
    form = UserEditForm()
    form.entity.choices = _entity_choices(user.entity)
    if not form.validate_on_submit():
        return _render_user(user, form, 422)
    try:
        updated = service.update_user(current_user, username, version=form.version.data,
                                      display_name=form.display_name.data, entity_code=form.entity.data,
                                      roles=form.roles.data)
    except Invalid as error:
        _apply_errors(form, error)
        return _render_user(user, form, 422)
    except Conflict as error:
        db.session.rollback()  # nothing half done is committed by a later write
        flash(error.message, "error")
        return _render_user(service.get_user(current_user, username), None, 409)
    if updated.pending_change is not None:
        flash(_("The change of roles or entity of %(username)s needs a second admin: it waits for another admin's "
                "approval and applies only then.", username=user.username), "info")  # accepted, as a request
    else:
        flash(_("Changes to %(username)s saved.", username=user.username), "success")
    return redirect(url_for("admin.user_detail", username=user.username))


def _user_action(username, action, done_message):
    """A button on the user page: check CSRF and version, call the service, come back to the page."""
    form = VersionForm()
    if not form.validate_on_submit():
        flash(_("The form was incomplete; nothing was changed."), "error")
        return _render_user(service.get_user(current_user, username), None, 422)
    try:
        action(current_user, username, version=form.version.data)
    except Conflict as error:
        db.session.rollback()  # nothing half done is committed by a later write
        flash(error.message, "error")
        return _render_user(service.get_user(current_user, username), None, 409)
    flash(done_message, "success")
    return redirect(url_for("admin.user_detail", username=username))


@bp.route("/users/<username>/deactivate", methods=["POST"])
@admin_only
def user_deactivate(username):
    return _user_action(username, service.deactivate_user,
                        _("User deactivated; their open sessions were ended."))


@bp.route("/users/<username>/reactivate", methods=["POST"])
@admin_only
def user_reactivate(username):
    return _user_action(username, service.reactivate_user, _("User reactivated."))


@bp.route("/users/<username>/reset-totp", methods=["POST"])
@admin_only
def user_reset_totp(username):
    return _user_action(username, service.reset_totp,
                        _("Second factor reset: the user will set it up again at next sign-in."))


@bp.route("/users/<username>/end-sessions", methods=["POST"])
@admin_only
def user_end_sessions(username):
    ended = service.end_sessions(current_user, username)
    flash(_("%(n)s open session(s) ended.", n=ended), "success")
    return redirect(url_for("admin.user_detail", username=username))


@bp.route("/users/<username>/revoke-tokens", methods=["POST"])
@admin_only
def user_revoke_tokens(username):
    revoked = service.revoke_tokens(current_user, username)
    flash(_("%(n)s API token(s) revoked.", n=revoked), "success")
    return redirect(url_for("admin.user_detail", username=username))


# --- four eyes ---------------------------------------------------------------------------------------


@bp.route("/requests")
@admin_only
def requests():
    return render_template("admin/requests.html", pending=service.pending_changes(current_user))


def _decide(request_id, decide, done_message):
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("The form was incomplete; nothing was changed."), "error")
        return redirect(url_for("admin.requests"))
    try:
        decide(current_user, request_id)
    except (Conflict, Forbidden, NotFound) as error:
        db.session.rollback()  # nothing half done is committed by a later write
        flash(error.message, "error")
        return render_template("admin/requests.html", pending=service.pending_changes(current_user)), error.status
    flash(done_message, "success")
    return redirect(url_for("admin.requests"))


@bp.route("/requests/<int:request_id>/approve", methods=["POST"])
@admin_only
def request_approve(request_id):
    return _decide(request_id, service.approve_change, _("Request approved: the change is applied."))


@bp.route("/requests/<int:request_id>/reject", methods=["POST"])
@admin_only
def request_reject(request_id):
    return _decide(request_id, service.reject_change, _("Request rejected: nothing was changed."))


# --- entities ------------------------------------------------------------------------------------------


@bp.route("/entities")
@admin_only
def entities():
    return render_template("admin/entities.html", entities=service.list_entities(current_user))


@bp.route("/entities/new", methods=["GET", "POST"])
@admin_only
def entity_new():
    form = EntityCreateForm()
    if form.validate_on_submit():
        try:
            entity = service.create_entity(current_user, code=form.code.data, name=form.name.data,
                                           kind=form.kind.data, territory=form.territory.data)
        except Invalid as error:
            _apply_errors(form, error)
        else:
            flash(_("Entity %(code)s created.", code=entity.code), "success")
            return redirect(url_for("admin.entities"))
    return render_template("admin/entity_new.html", form=form), 422 if form.is_submitted() else 200


def _render_entity(entity, form=None, status=200):
    if form is None:
        form = EntityEditForm(formdata=None, obj=entity)
    return render_template("admin/entity_detail.html", entity=entity, form=form,
                           action_form=VersionForm(formdata=None, version=entity.version)), status


@bp.route("/entities/<code>", methods=["GET", "POST"])
@admin_only
def entity_detail(code):
    entity = service.get_entity(current_user, code)
    if request.method == "GET":
        return _render_entity(entity)
    form = EntityEditForm()
    if not form.validate_on_submit():
        return _render_entity(entity, form, 422)
    try:
        service.update_entity(current_user, code, version=form.version.data, name=form.name.data,
                              kind=form.kind.data, territory=form.territory.data or None)  # blank: kept
    except Invalid as error:
        _apply_errors(form, error)
        return _render_entity(entity, form, 422)
    except Conflict as error:
        db.session.rollback()  # nothing half done is committed by a later write
        flash(error.message, "error")
        return _render_entity(service.get_entity(current_user, code), None, 409)
    flash(_("Changes to %(code)s saved.", code=entity.code), "success")
    return redirect(url_for("admin.entities"))


def _entity_action(code, action, done_message):
    form = VersionForm()
    if not form.validate_on_submit():
        flash(_("The form was incomplete; nothing was changed."), "error")
        return _render_entity(service.get_entity(current_user, code), None, 422)
    try:
        action(current_user, code, version=form.version.data)
    except Conflict as error:
        db.session.rollback()  # nothing half done is committed by a later write
        flash(error.message, "error")
        return _render_entity(service.get_entity(current_user, code), None, 409)
    flash(done_message, "success")
    return redirect(url_for("admin.entity_detail", code=code))


@bp.route("/entities/<code>/deactivate", methods=["POST"])
@admin_only
def entity_deactivate(code):
    return _entity_action(code, service.deactivate_entity,
                          _("Entity deactivated: its users can no longer sign in."))


@bp.route("/entities/<code>/reactivate", methods=["POST"])
@admin_only
def entity_reactivate(code):
    return _entity_action(code, service.reactivate_entity, _("Entity reactivated."))
