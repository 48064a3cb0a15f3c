"""JSON API v1: route."""
from caseapp.api import bp  # noqa: F401

PATHS: dict = {}
SCHEMAS: dict = {}
