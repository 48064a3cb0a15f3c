"""JSON API v1: audit."""
from caseapp.api import bp  # noqa: F401

PATHS: dict = {}
SCHEMAS: dict = {}
