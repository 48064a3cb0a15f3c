"""JSON API v1: indicators."""
from caseapp.api import bp  # noqa: F401

PATHS: dict = {}
SCHEMAS: dict = {}
