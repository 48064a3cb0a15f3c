"""`flask users ...` (to be filled by its area)."""
from flask.cli import AppGroup

group = AppGroup("users")
