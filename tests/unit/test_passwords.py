"""Password policy (NIST SP 800-63B): length over composition, common and context-specific passwords refused."""
from __future__ import annotations

import pytest

from caseapp.services.accounts import passwords


@pytest.fixture
def es(ctx):
    from flask_babel import force_locale

    with force_locale("es_CO"):
        yield


def test_too_short(es):
    assert passwords.problems("corta 123", "ana") == [
        "Use al menos 12 caracteres. Una frase de varias palabras es fácil de recordar."
    ]


def test_too_long(ctx):
    assert passwords.problems("una frase muy larga " * 7, "ana")


@pytest.mark.parametrize("pw", ["password1234", "PASSWORD1234", "iloveyou1234", "baseball1234"])
def test_common_passwords_refused(es, pw):
    problems = passwords.problems(pw, "ana")
    assert problems and ("lista de contraseñas comunes" in problems[0] or "fácil de adivinar" in problems[0])


def test_shipped_list_is_plain_text_and_read_from_the_app():
    words = passwords.common_passwords()
    assert len(words) > 30000
    assert "password" in words and "iloveyou" in words
    assert all(w == w.lower() and "\n" not in w for w in list(words)[:1000])


@pytest.mark.parametrize("pw,username", [("mariaperez es mi clave 2024", "mariaperez"),
                                         ("MARIAPEREZ viaja a cartagena", "mariaperez")])
def test_containing_username_refused(es, pw, username):
    assert passwords.problems(pw, username) == ["La contraseña no puede contener su usuario."]


def test_short_username_still_checked(es):
    # "mañana" contains "ana": refused, and the message says why.
    assert passwords.problems("tinto caliente para la reunión de la mañana", "ana") == [
        "La contraseña no puede contener su usuario."
    ]


def test_containing_product_name_refused(es):
    assert passwords.problems("la Ruta de atención integral", "ana") == [
        "La contraseña no puede contener el nombre del sistema."
    ]


def test_weak_gets_translated_feedback(es):
    problems = passwords.problems("qwertyuiopasdf", "ana")
    assert problems[0] == "Esta contraseña es demasiado fácil de adivinar."
    assert "Agregue una o dos palabras más. Las palabras poco comunes son mejores." in problems[1:]


@pytest.mark.parametrize("pw", [
    "correct horse battery staple 42",
    "el río magdalena baja lento hacia barranquilla",
    "Ñandú pingüino café 42",
    "   espacios al comienzo y al final   ",
    "日本語のパスフレーズはとても長いです",
])
def test_long_passphrases_with_spaces_and_unicode_accepted(ctx, pw):
    assert passwords.problems(pw, "ana") == []


def test_no_composition_rules(ctx):
    # Only lowercase letters and spaces: fine, because it is long and uncommon.
    assert passwords.problems("tinto caliente para la reunión de la mañana", "jperez") == []


def test_only_spaces_refused(ctx):
    assert passwords.problems(" " * 20, "ana")


def test_minimum_length_is_configurable(ctx):
    ctx.config["PASSWORD_MIN_LENGTH"] = 20
    assert passwords.problems("veinte caracteres", "ana")


def test_nfkc_normalisation_before_hashing(ctx):
    composed = "Ma\u00f1ana sal\u00ed a caminar 42"
    decomposed = "Man\u0303ana sali\u0301 a caminar 42"
    stored = passwords.hash_password(decomposed)
    assert passwords.verify(stored, composed) and passwords.verify(stored, decomposed)
    assert not passwords.verify(stored, "ma\u00f1ana sal\u00ed a caminar 42")


def test_verify_unknown_user_costs_a_hash_and_fails(ctx):
    assert passwords.verify(None, "anything at all") is False


def test_hash_meets_owasp_minimums(ctx):
    stored = passwords.hash_password("correct horse battery staple 42")
    assert stored.startswith("$argon2id$") and "m=19456" in stored and "t=2" in stored


# --- Spanish words, Colombian places, the product's own words -------------------------------------------------

SPANISH_WEAK = ["contraseña123", "Colombia2025*", "Cartagena2026!", "trata de personas", "c0ntr4seña123",
                "CONTRASEÑA 2024", "Medellín1234!", "víctima de trata", "Barranquilla.2025", "bogota bogota 1"]


@pytest.mark.parametrize("pw", SPANISH_WEAK)
def test_spanish_words_places_and_product_words_refused(es, pw):
    problems = passwords.problems(pw, "tsocial.ctg")
    assert problems, pw


@pytest.mark.parametrize("pw", ["una tarde lluviosa en el malecón 7", "mi gato come aguacate los martes",
                                "Ventana azul sobre el río, cuarenta loros", "correct horse battery staple 42"])
def test_good_phrases_still_accepted(ctx, pw):
    assert passwords.problems(pw, "tsocial.ctg") == []


def test_word_lists_are_shipped_with_their_source(ctx):
    words = passwords.spanish_words()
    assert len(words) > 80000 and {"contrasena", "trata", "persona"} <= words
    places = passwords.places_and_product_words()
    assert {"cartagena", "colombia", "tratadepersonas", "ruta", "victima", "sanandres"} <= places
    assert "wspanish" in passwords.__doc__
