"""Flask command groups (`flask <group> ...`), one module per group."""
import importlib

GROUPS = ("entities", "users", "keys", "audit", "demo", "victims", "backup", "plans", "stats", "translate",
          "notifications")


def init_app(app) -> None:
    for name in GROUPS:
        module = importlib.import_module(f"caseapp.cli.{name}")
        app.cli.add_command(module.group)
