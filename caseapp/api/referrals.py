"""JSON API v1: referrals."""
from caseapp.api import bp  # noqa: F401

PATHS: dict = {}
SCHEMAS: dict = {}
