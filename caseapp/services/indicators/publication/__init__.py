"""One protected publication per territory and year: every count a coordinator can see (screens, files, the
statistics API, product progress, policy summaries, committee reports) is read from it. See tables.py (what it
holds), protect.py and audit.py (how it is protected), build.py (when and how it is counted), read.py (lookups)."""
from caseapp.services.indicators.publication.build import (
    build,
    current_cut_off,
    cut_off_for,
    first_case_year,
    resolve,
    years_from,
    years_read,
)
from caseapp.services.indicators.publication.read import cell, cells, count, period_cells, publication, stale
from caseapp.services.indicators.publication.values import product_value, reader_values

__all__ = ["build", "cell", "cells", "count", "current_cut_off", "cut_off_for", "first_case_year", "period_cells",
           "product_value", "publication", "reader_values", "resolve", "stale", "years_from",
           "years_read"]
