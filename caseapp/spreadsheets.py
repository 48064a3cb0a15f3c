"""How Ruta writes a cell of a file people open in a spreadsheet: the one formula-injection guard, the one CSV
dialect and the one way of writing numbers, for every CSV and XLSX it produces (committee reports and count
tables, the monthly table list, the access-log export).

The CSV dialect opens in a Colombian Excel: UTF-8 with a byte-order mark, ";" between fields, a decimal comma and no
thousands separator (a year stays 2025, a count of a thousand 1000). In XLSX numbers are numbers and text is never a
formula. A reserved (suppressed) count is an empty cell: the file says why in a note, and in XLSX the cell carries
that legend as a comment.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from babel.numbers import format_decimal
from openpyxl.comments import Comment

# Text that a spreadsheet would run: a formula (=, +, -, @), a DDE or a control character in front of one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
NUMBER_LOCALE = "es_CO"  # the files' numbers are Colombian whatever the reader's language


class Reserved:
    """A suppressed count: an empty cell in every file, with the legend saying why."""

    def __repr__(self) -> str:
        return "RESERVED"


RESERVED = Reserved()


@dataclass(frozen=True)
class Pct:
    """A share (0.75 is 75 %): a percentage cell in XLSX, "75,0 %" in CSV; None is empty."""

    value: object


def safe_text(value) -> str:
    """The one formula-injection guard: text a spreadsheet would read as a formula starts with an apostrophe."""
    text = "" if value is None else str(value)
    if text.lstrip(" ")[:1] in FORMULA_STARTS and text.strip():
        return "'" + text
    return text


def number(value):
    """An int stays an int; a share or a decimal becomes a float; anything else is not a number (None)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal | Fraction):
        return float(value)
    return None


def csv_cell(value) -> str:
    if value is None or isinstance(value, Reserved):
        return ""
    if isinstance(value, Pct):
        return "" if value.value is None else format_decimal(float(value.value) * 100, format="0.0",
                                                             locale=NUMBER_LOCALE) + " %"
    found = number(value)
    if isinstance(found, int):
        return str(found)
    if found is not None:
        return format_decimal(found, format="0.####", locale=NUMBER_LOCALE)
    return safe_text(value)


def csv_bytes(rows: Iterable[list]) -> bytes:
    """Rows as a CSV file in the one dialect (every cell through `csv_cell`)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(c) for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def put(sheet, row: int, col: int, value, legend: str | None = None) -> None:
    """Write one XLSX cell: a number as a number, text never as a formula, a reserved count empty with `legend`."""
    cell = sheet.cell(row=row, column=col)
    if value is None:
        return
    if isinstance(value, Reserved):
        if legend:
            cell.comment = Comment(legend, "Ruta")
        return
    if isinstance(value, Pct):
        if value.value is not None:
            cell.value = float(value.value)
            cell.number_format = "0.0%"
        return
    found = number(value)
    if found is not None:
        cell.value = found
        cell.number_format = "0" if isinstance(found, int) else "0.####"
        return
    cell.value = safe_text(value)
    cell.data_type = "s"  # never a formula, whatever it starts with

