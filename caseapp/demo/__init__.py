"""Demonstration data for `flask demo` (development configuration only): one module per area, loaded in order.

Each module has `load(echo)`; it must be idempotent (a second `flask demo` changes nothing) and use
fake people only (Faker, es_CO).
"""
import importlib

STEPS = ("accounts", "cases", "route", "indicators")


def load_all(echo) -> None:
    for name in STEPS:
        module = importlib.import_module(f"caseapp.demo.{name}")
        module.load(echo)
