"""Web UI: one blueprint package per area (routes.py + forms.py), templates in templates/<area>/."""
