"""Password policy (NIST SP 800-63B): length over composition, no common or context-specific passwords.

- 12 to 128 characters (PASSWORD_MIN_LENGTH / PASSWORD_MAX_LENGTH), any characters, spaces and unicode included;
  passwords are NFKC-normalised before they are hashed or checked, so the same phrase typed on another
  keyboard still matches;
- no composition rules (no "one digit, one symbol");
- refused when found in the shipped list `caseapp/data/common-passwords.txt`, when it contains the username
  or the product's name, or when zxcvbn rates it below 3 (its feedback is shown translated).
"""
from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from caseapp import crypto

COMMON_PASSWORDS = Path(__file__).resolve().parents[2] / "data" / "common-passwords.txt"
MIN_SCORE = 3
ZXCVBN_MAX = 72  # zxcvbn refuses longer inputs; a longer password is judged on its first 72 characters
CONTEXT_WORDS = ("ruta",)

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


def _strength_feedback(password: str, username: str | None) -> tuple[int, list[str]]:
    from zxcvbn import zxcvbn

    inputs = [w for w in (username, *CONTEXT_WORDS) if w]
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
    if crypto.verify_password(stored, normal):
        return True
    return bool(stored) and normal != password and crypto.verify_password(stored, password)
