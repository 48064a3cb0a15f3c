"""Build and check the translation catalogues (`python -m caseapp.i18n_catalog compile|check|missing`).

Spanish translations live in per-area fragments (caseapp/translations/es_CO/fragments/<area>.po) so that
areas never edit the same file; `compile` merges them into messages.po and compiles messages.mo;
`check` fails when a message in the code or templates has no Spanish translation, or a fuzzy one.
English needs no translations: message ids are English.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "caseapp" / "translations"
LOCALES = ("es_CO", "en")
METHOD_MAP = [("caseapp/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2), "lazy_ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n"}


def extract() -> dict[str, list[str]]:
    """Every message id in the code and templates, with where it is used."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHOD_MAP, keywords=KEYWORDS, options_map={"templates/**.html": JINJA_OPTIONS}
    ):
        if filename.startswith(("tests", "bench", ".venv")):
            continue
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def merged(locale: str) -> Catalog:
    catalog = Catalog(locale=locale, domain="messages", project="Ruta", fuzzy=False)
    for fragment in sorted((TRANSLATIONS / locale / "fragments").glob("*.po")):
        with fragment.open("rb") as fh:
            part = read_po(fh, locale=locale)
        for message in part:
            if message.id and message.id not in catalog:
                catalog[message.id] = message
    return catalog


def compile_all() -> None:
    for locale in LOCALES:
        out = TRANSLATIONS / locale / "LC_MESSAGES"
        out.mkdir(parents=True, exist_ok=True)
        catalog = merged(locale)
        with (out / "messages.po").open("wb") as fh:
            write_po(fh, catalog)
        with (out / "messages.mo").open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)


def missing(locale: str = "es_CO") -> dict[str, list[str]]:
    catalog = merged(locale)
    result = {}
    for msgid, where in extract().items():
        message = catalog.get(msgid)
        if message is None or message.fuzzy or not (
            all(message.string) if isinstance(message.string, (list, tuple)) else message.string
        ):
            result[msgid] = where
    return result


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compile"
    if command == "compile":
        compile_all()
        return 0
    if command in ("check", "missing"):
        gaps = missing()
        for msgid, where in sorted(gaps.items()):
            print(f"{where[0]}: {msgid!r}")
        if gaps:
            print(f"{len(gaps)} message(s) without a Spanish translation", file=sys.stderr)
        return 1 if gaps and command == "check" else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
