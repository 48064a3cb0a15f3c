"""JSON API v1: cases."""
from caseapp.api import bp  # noqa: F401

PATHS: dict = {}
SCHEMAS: dict = {}
