"""Attachments of a case on the web: the block on the case page, upload, download, and the size limit (admin)."""
from flask import Blueprint

bp = Blueprint("attachments", __name__, url_prefix="/attachments")

from caseapp.web.attachments import routes  # noqa: E402,F401
