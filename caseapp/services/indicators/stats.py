"""Anonymised counts (the names views, the API and exports use): dimensions, cubes with their suppression,
and tables. The method is explained in cubes.py."""
from caseapp.services.indicators.cubes import Engine
from caseapp.services.indicators.dimensions import (
    DEFAULT_K,
    DIM_LABELS,
    DIMENSIONS,
    MAX_DIMS,
    SETTING_K,
    TIME_DIMS,
    UNITS,
    VALUE_LABELS,
    Universe,
    get_k,
    set_k,
    setting_version,
    time_value,
)
from caseapp.services.indicators.tables import (
    Row,
    Table,
    add_margins,
    breakdown,
    breakdown_tables,
    cases_table,
    log_export,
    parse_by,
    parse_period,
    product_universe,
    query,
    value_label,
)

__all__ = [
    "DEFAULT_K", "DIMENSIONS", "DIM_LABELS", "Engine", "MAX_DIMS", "Row", "SETTING_K", "TIME_DIMS", "Table", "UNITS",
    "Universe", "VALUE_LABELS", "add_margins", "breakdown", "breakdown_tables", "cases_table", "get_k", "log_export",
    "parse_by", "parse_period", "product_universe", "query", "set_k", "setting_version", "time_value", "value_label",
]
