"""Build and check the translation catalogues (`python -m caseapp.i18n_catalog compile|check|missing`).

Spanish translations live in per-area fragments (caseapp/translations/es_CO/fragments/<area>.po) so that
areas never edit the same file; `compile` merges them into messages.po and compiles messages.mo;
`check` fails when a message in the code or templates has no Spanish translation, or a fuzzy one, or when two
fragments translate the same message (same id, same context) differently — the merge would silently keep the
first. A word whose translation depends on what it qualifies gets a context (pgettext), one translation each.
English needs no translations: message ids are English.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "caseapp" / "translations"
LOCALES = ("es_CO", "en")
METHOD_MAP = [("caseapp/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2), "_lp": ((1, "c"), 2),
            "npgettext": ((1, "c"), 2, 3), "lazy_ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n"}

# A message is known by its context and its id (the singular, for a plural message).
Key = tuple[str | None, str]


def _key(message: Message) -> Key:
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return message.context, msgid


def describe(key: Key) -> str:
    context, msgid = key
    return f"{msgid!r} (context {context!r})" if context else repr(msgid)


def extract() -> dict[Key, list[str]]:
    """Every message in the code and templates, keyed by (context, id), with where it is used."""
    found: dict[Key, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), METHOD_MAP, keywords=KEYWORDS, options_map={"templates/**.html": JINJA_OPTIONS}
    ):
        if filename.startswith(("tests", "bench", ".venv")):
            continue
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((context or None, msgid), []).append(f"{filename}:{lineno}")
    return found


def fragments(locale: str, directory: Path | None = None) -> list[tuple[str, Catalog]]:
    """The fragments of a locale, by file name, in the order the merge reads them."""
    directory = directory or TRANSLATIONS / locale / "fragments"
    out = []
    for path in sorted(directory.glob("*.po")):
        with path.open("rb") as fh:
            out.append((path.name, read_po(fh, locale=locale)))
    return out


def _translation(message: Message) -> tuple[str, ...]:
    strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
    return tuple(s or "" for s in strings)


def conflicts(locale: str = "es_CO", directory: Path | None = None) -> dict[Key, list[tuple[str, tuple]]]:
    """Messages that two fragments translate differently: {key: [(fragment, translation), ...]}."""
    seen: dict[Key, list[tuple[str, tuple]]] = {}
    for name, part in fragments(locale, directory):
        for message in part:
            if message.id and not message.fuzzy and any(_translation(message)):
                seen.setdefault(_key(message), []).append((name, _translation(message)))
    return {key: found for key, found in seen.items() if len({t for _name, t in found}) > 1}


def merged(locale: str, directory: Path | None = None) -> Catalog:
    catalog = Catalog(locale=locale, domain="messages", project="Ruta", fuzzy=False)
    for _name, part in fragments(locale, directory):
        for message in part:
            # Catalog's `in` ignores the context: look the message up with its own.
            if message.id and catalog.get(message.id, context=message.context) is None:
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


def missing(locale: str = "es_CO", directory: Path | None = None) -> dict[Key, list[str]]:
    catalog = merged(locale, directory)
    result = {}
    for key, where in extract().items():
        context, msgid = key
        message = catalog.get(msgid, context=context)
        if message is None or message.fuzzy or not all(_translation(message)):
            result[key] = where
    return result


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compile"
    if command == "compile":
        compile_all()
        return 0
    if command in ("check", "missing"):
        gaps = missing()
        for key, where in sorted(gaps.items(), key=lambda item: (item[0][1], item[0][0] or "")):
            print(f"{where[0]}: {describe(key)}")
        if gaps:
            print(f"{len(gaps)} message(s) without a Spanish translation", file=sys.stderr)
        clashes = conflicts() if command == "check" else {}
        for key, found in sorted(clashes.items(), key=lambda item: (item[0][1], item[0][0] or "")):
            print(f"{describe(key)} is translated differently:")
            for name, translation in found:
                print(f"    {name}: {' | '.join(translation)!r}")
        if clashes:
            print(f"{len(clashes)} message(s) with conflicting Spanish translations: give each one translation, "
                  "or a context (pgettext) per meaning", file=sys.stderr)
        return 1 if (gaps or clashes) and command == "check" else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
