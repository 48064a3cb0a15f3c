"""Demonstration data for `flask demo` (development configuration only): one module per area, loaded in order.

Each module has `load(echo)`; it must be idempotent (a second `flask demo` changes nothing) and use
fake people only (Faker, es_CO).
"""
import importlib

# What `flask demo` says when Faker is missing: it is in the `demo` extra, never a runtime dependency.
INSTALL_HINT = "pip install '.[demo]'"

STEPS = ("accounts", "cases", "route", "indicators")


def load_all(echo) -> None:
    for name in STEPS:
        module = importlib.import_module(f"caseapp.demo.{name}")
        module.load(echo)


def faker_missing() -> bool:
    """True when Faker (the `demo` extra) is not installed: the demo modules import it, the app never does."""
    try:
        import faker  # noqa: F401
    except ImportError:
        return True
    return False


def print_logins(echo, url: str) -> None:
    from caseapp.demo import accounts  # imports Faker: only once faker_missing() said it is there

    accounts.print_logins(echo, url)
