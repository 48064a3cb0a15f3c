"""Notification screens: the list (newest first), opening one, and marking as read.

Every change is a POST (CSRF checked by the application-wide CSRFProtect): the list opens a notification with a
POST button that marks it read on the way; a GET of the same address opens it without marking it read, so that a
link or an image on another site cannot clear her counter."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from caseapp.services import notifications as service
from caseapp.web.notifications import bp


@bp.route("/")
@login_required
def index():
    before = request.args.get("before")
    rows = service.notifications(current_user, before=before)
    next_before = rows[-1].id if len(rows) == service.reading.PAGE else None
    return render_template("notifications/list.html", rows=rows, next_before=next_before)


@bp.route("/<int:notification_id>", methods=["GET", "POST"])
@login_required
def open_one(notification_id):
    view = service.open_notification(current_user, notification_id, mark_read=request.method == "POST")
    if view.target is None:
        flash(_("You no longer have access to what this notification was about."), "info")
        return redirect(url_for("notifications.index"))
    kind, ref = view.target
    if kind == "referral":
        return redirect(url_for("referrals.detail", referral_id=ref))
    return redirect(url_for("route.case_route", code=ref))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def read_one(notification_id):
    service.mark_read(current_user, notification_id)
    return redirect(url_for("notifications.index"))


@bp.route("/read", methods=["POST"])
@login_required
def read_all():
    count = service.mark_all_read(current_user)
    flash(_("%(n)s notifications marked as read.", n=count), "success")
    return redirect(url_for("notifications.index"))
