"""`flask backup ...` (to be filled by its area)."""
from flask.cli import AppGroup

group = AppGroup("backup")
