"""How words are compared, whatever keyboard typed them: one definition for every place that compares or orders
them (passwords against the common ones, blind indexes, lists ordered by name)."""
from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lowercase without accents (ñ is n)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
