from flask import Blueprint, g, request
from flask_login import current_user

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def unread_notifications() -> int:
    """The header's counter: one statement, once per request, and only on a page that shows the header."""
    if "unread_notifications" not in g:
        from caseapp.services.notifications import unread_count

        g.unread_notifications = unread_count(current_user) if current_user.is_authenticated else 0
    return g.unread_notifications


@bp.before_app_request
def count_early():
    """Count before the view commits anything: then the count shares the transaction that found the session (one
    statement), instead of opening a new one after the view's commit (two)."""
    if request.method == "GET" and request.blueprint not in (None, "api"):
        unread_notifications()


@bp.app_context_processor
def header_counter():
    return {"unread_notifications": unread_notifications}


from caseapp.web.notifications import routes  # noqa: E402,F401
