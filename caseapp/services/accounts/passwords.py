"""Password policy (NIST SP 800-63B): length over composition, no common or context-specific passwords.

- 12 to 128 characters (PASSWORD_MIN_LENGTH / PASSWORD_MAX_LENGTH), any characters, spaces and unicode included;
  passwords are NFKC-normalised before they are hashed or checked, so the same phrase typed on another
  keyboard still matches;
- no composition rules (no "one digit, one symbol");
- refused when found in the shipped list `caseapp/data/common-passwords.txt`, when it contains the username
  or the product's name, when it is built from at most two Spanish words, Colombian places or words of this
  system (`caseapp/data/spanish-words.txt.gz`, from Debian's public-domain wspanish list, and
  `caseapp/data/context-words.txt`), once folded (no accents, lowercase), with digits and symbols at its ends
  dropped and common substitutions undone ("c0ntr4seña123" is "contrasena"), or when zxcvbn rates it below 3
  with those places and words as its context (its feedback is shown translated).
"""
from __future__ import annotations

import functools
import gzip
import unicodedata
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from caseapp import crypto
from caseapp.text import fold

DATA = Path(__file__).resolve().parents[2] / "data"
COMMON_PASSWORDS = DATA / "common-passwords.txt"
SPANISH_WORDS = DATA / "spanish-words.txt.gz"
PLACES_AND_PRODUCT = DATA / "context-words.txt"
MIN_SCORE = 3
ZXCVBN_MAX = 72  # zxcvbn refuses longer inputs; a longer password is judged on its first 72 characters
CONTEXT_WORDS = ("ruta",)
MAX_DICTIONARY_WORDS = 2  # a password that is at most this many dictionary words (once folded) is refused
LONGEST_WORD = 40
CONNECTORS = frozenset({"de", "del", "la", "las", "el", "los", "en", "y", "e", "o", "a", "al", "un", "una", "mi",
                        "tu", "su", "con", "por", "para", "que", "es"})
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
                      "@": "a", "$": "s", "|": "l", "!": "i", "+": "t"})

# zxcvbn's English feedback, as message ids of our catalogue so that Babel translates it.
FEEDBACK = {
    "Use a few words, avoid common phrases.": _l("Use a few words, avoid common phrases."),
    "No need for symbols, digits, or uppercase letters.": _l("No need for symbols, digits, or uppercase letters."),
    "Add another word or two. Uncommon words are better.": _l("Add another word or two. Uncommon words are better."),
    "Straight rows of keys are easy to guess.": _l("Straight rows of keys are easy to guess."),
    "Short keyboard patterns are easy to guess.": _l("Short keyboard patterns are easy to guess."),
    "Use a longer keyboard pattern with more turns.": _l("Use a longer keyboard pattern with more turns."),
    'Repeats like "aaa" are easy to guess.': _l('Repeats like "aaa" are easy to guess.'),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': _l(
        'Repeats like "abcabcabc" are only slightly harder to guess than "abc".'
    ),
    "Avoid repeated words and characters.": _l("Avoid repeated words and characters."),
    'Sequences like "abc" or "6543" are easy to guess.': _l('Sequences like "abc" or "6543" are easy to guess.'),
    "Avoid sequences.": _l("Avoid sequences."),
    "Recent years are easy to guess.": _l("Recent years are easy to guess."),
    "Avoid recent years.": _l("Avoid recent years."),
    "Avoid years that are associated with you.": _l("Avoid years that are associated with you."),
    "Dates are often easy to guess.": _l("Dates are often easy to guess."),
    "Avoid dates and years that are associated with you.": _l("Avoid dates and years that are associated with you."),
    "This is a top-10 common password.": _l("This is a top-10 common password."),
    "This is a top-100 common password.": _l("This is a top-100 common password."),
    "This is a very common password.": _l("This is a very common password."),
    "This is similar to a commonly used password.": _l("This is similar to a commonly used password."),
    "A word by itself is easy to guess.": _l("A word by itself is easy to guess."),
    "Names and surnames by themselves are easy to guess.": _l("Names and surnames by themselves are easy to guess."),
    "Common names and surnames are easy to guess.": _l("Common names and surnames are easy to guess."),
    "Capitalization doesn't help very much.": _l("Capitalization doesn't help very much."),
    "All-uppercase is almost as easy to guess as all-lowercase.": _l(
        "All-uppercase is almost as easy to guess as all-lowercase."
    ),
    "Reversed words aren't much harder to guess.": _l("Reversed words aren't much harder to guess."),
    "Predictable substitutions like '@' instead of 'a' don't help very much.": _l(
        "Predictable substitutions like '@' instead of 'a' don't help very much."
    ),
}


def normalise(password: str) -> str:
    """The form a password is hashed and checked in (Unicode NFKC)."""
    return unicodedata.normalize("NFKC", password)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (read once per process)."""
    with COMMON_PASSWORDS.open(encoding="utf-8") as fh:
        return frozenset(line.rstrip("\n") for line in fh if line.strip() and not line.startswith("#"))


def _read_words(fh) -> frozenset[str]:
    return frozenset(w for line in fh if (w := "".join(fold(line).split())) and not line.startswith("#"))


@functools.cache
def spanish_words() -> frozenset[str]:
    with gzip.open(SPANISH_WORDS, "rt", encoding="utf-8") as fh:
        return _read_words(fh)


@functools.cache
def places_and_product_words() -> frozenset[str]:
    with PLACES_AND_PRODUCT.open(encoding="utf-8") as fh:
        return _read_words(fh)


def _is_word(word: str) -> bool:
    for form in (word, word[:-1] if word.endswith("s") else None, word[:-2] if word.endswith("es") else None):
        if form and (form in places_and_product_words() or (len(form) >= 2 and form in spanish_words())):
            return True
    return False


def _word_count(core: str) -> int:
    """The fewest dictionary words `core` splits into (a large number when it does not split). Connecting words
    ("de", "la", "en"...) are free: "víctima de trata" counts as two words."""
    n = len(core)
    best = [0] + [n + 1] * n
    for end in range(1, n + 1):
        for start in range(max(0, end - LONGEST_WORD), end):
            cost = 0 if core[start:end] in CONNECTORS else 1
            if best[start] + cost < best[end] and _is_word(core[start:end]):
                best[end] = best[start] + cost
    return best[n]


def _cores(password: str) -> set[str]:
    """The letters a guesser would try: all the letters, and the letters once digits and symbols at the ends
    are dropped and substitutions like 4 for a are undone."""
    folded = fold(password)
    letters = "".join(c for c in folded if c.isalpha())
    start, end = 0, len(folded)
    while start < end and not folded[start].isalpha():
        start += 1
    while end > start and not folded[end - 1].isalpha():
        end -= 1
    unleet = "".join(c for c in folded[start:end].translate(LEET) if c.isalpha())
    return {c for c in (letters, unleet) if c}


def built_from_words(password: str) -> bool:
    """True when the password is at most MAX_DICTIONARY_WORDS Spanish words, places or words of this system."""
    return any(_word_count(core) <= MAX_DICTIONARY_WORDS for core in _cores(password[:256]))


def _strength_feedback(password: str, username: str | None) -> tuple[int, list[str]]:
    from zxcvbn import zxcvbn

    inputs = [w for w in (username, *CONTEXT_WORDS, *sorted(places_and_product_words())) if w]
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=inputs)
    feedback = result.get("feedback") or {}
    messages = []
    for text in [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]:
        if text:
            translated = FEEDBACK.get(text)
            messages.append(str(translated) if translated is not None else text)
    return int(result["score"]), messages


def problems(password: str, username: str | None = None) -> list[str]:
    """Every reason `password` is refused, as messages for the person choosing it (empty: acceptable)."""
    cfg = current_app.config
    min_len, max_len = cfg["PASSWORD_MIN_LENGTH"], cfg["PASSWORD_MAX_LENGTH"]
    password = normalise(password or "")
    if len(password) < min_len:
        return [_("Use at least %(min)d characters. A phrase of several words is easy to remember.", min=min_len)]
    if len(password) > max_len:
        return [_("Use at most %(max)d characters.", max=max_len)]
    if not password.strip():
        return [_("The password cannot be only spaces.")]
    folded = password.casefold()
    if folded in common_passwords() or folded.strip() in common_passwords():
        return [_("This password is on the list of common passwords. Choose another one.")]
    name = (username or "").casefold().strip()
    if len(name) >= 3 and name in folded:
        return [_("The password cannot contain your username.")]
    for word in CONTEXT_WORDS:
        if word in folded:
            return [_("The password cannot contain the name of the system.")]
    if built_from_words(password):
        return [_("This password is only one or two common words, places or words of this system, even with "
                  "digits or symbols added. Use a phrase of several uncommon words.")]
    score, feedback = _strength_feedback(password, username)
    if score < MIN_SCORE:
        return [_("This password is too easy to guess."), *feedback]
    return []


def hash_password(password: str) -> str:
    """Argon2id hash of the normalised password."""
    return crypto.hash_password(normalise(password))


def verify(stored: str | None, password: str) -> bool:
    """Check a password against its hash (one Argon2 computation even when there is no hash).

    Hashes made before normalisation (a password typed with decomposed accents) still verify.
    """
    normal = normalise(password)
    first = crypto.verify_password(stored, normal)
    if normal == password:
        return first
    # A second computation whether or not the account exists (or the first matched): the time taken never
    # tells an existing account from an unknown one.
    second = crypto.verify_password(stored, password)
    return bool(stored) and (first or second)
