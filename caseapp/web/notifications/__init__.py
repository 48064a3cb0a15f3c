from flask import Blueprint, g, request
from flask_login import current_user

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def unread_notifications() -> int:
    """The header's counter, once per request and only on a page that shows the header: on a GET, as counted by the
    statement that found her session (before the view, as count_early would); after a POST's own changes, a
    statement of its own."""
    if "unread_notifications" not in g:
        g.unread_notifications = _count()
    return g.unread_notifications


def _count() -> int:
    if not current_user.is_authenticated:
        return 0
    signed_in = getattr(current_user, "current_session", None)
    if request.method == "GET" and signed_in is not None and signed_in.unread_at_sign_in is not None:
        return signed_in.unread_at_sign_in
    from caseapp.services.notifications import unread_count

    return unread_count(current_user)


@bp.before_app_request
def count_early():
    """Count before the view commits anything: then the count shares the transaction that found the session,
    instead of opening a new one after the view's commit."""
    if request.method == "GET" and request.blueprint not in (None, "api"):
        unread_notifications()


@bp.app_context_processor
def header_counter():
    return {"unread_notifications": unread_notifications}


from caseapp.web.notifications import routes  # noqa: E402,F401
