"""Anonymised counts (the names views, the API and exports use): dimensions, cubes with their suppression,
and tables, read from the protected publication (services/indicators/publication); the family members assisted,
apart from the victims (family_counts)."""
from caseapp.services.indicators.dimensions import (
    DEFAULT_K,
    DIM_LABELS,
    DIMENSIONS,
    SETTING_K,
    TIME_DIMS,
    UNITS,
    VALUE_LABELS,
    YEAR_ALONE_DIMS,
    get_k,
    set_k,
    setting_version,
    time_value,
)
from caseapp.services.indicators.family_counts import FamilySummary, family_summary, family_table
from caseapp.services.indicators.tables import (
    RESERVED,
    Row,
    Table,
    add_margins,
    breakdown_tables,
    cases_table,
    log_export,
    parse_by,
    parse_period,
    product_base,
    query,
    value_label,
)
from caseapp.services.indicators.tables import _sort_key as sort_key  # values in the order tables show them

__all__ = [
    "DEFAULT_K", "DIMENSIONS", "DIM_LABELS", "FamilySummary", "Row", "family_summary", "family_table", "SETTING_K",
    "TIME_DIMS", "Table", "UNITS", "YEAR_ALONE_DIMS",
    "VALUE_LABELS", "RESERVED", "add_margins", "breakdown_tables", "cases_table", "get_k", "log_export",
    "parse_by", "parse_period", "product_base", "query", "set_k", "setting_version", "sort_key", "time_value", "value_label",
]
