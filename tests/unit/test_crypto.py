"""Field-level encryption: round trip, tampering, moved values, wrong keys, blind indexes, shredding."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case
from caseapp.models.keys import DataKey
from caseapp.models.victims import Victim
from caseapp.services import registry as cases


def _data(**kw):
    base = {
        "given_names": "Yuliana", "family_names": "Mosquera Palacios", "document_type": "CC",
        "document_number": "1077123456", "birth_date": "1998-02-11", "phone": "3124445566",
        "sex": "female", "nationality": "CO", "identified_on": "2025-08-01", "identification_source": "fiscalia",
        "exploitation_purposes": ["forced_labour"], "trafficking_scope": "external", "consent_assistance": True,
        "destination_country": "PA",
    }
    base.update(kw)
    return base


@pytest.fixture
def two_cases(ctx, factory):
    worker = factory.user("ana")
    user = db.session.get(User, worker.id)
    a = cases.register_case(user, _data()).code
    b = cases.register_case(user, _data(given_names="Karen", document_number="52999888", phone="3001112233")).code
    return a, b


def _victim(code) -> Victim:
    return db.session.scalar(select(Case).where(Case.code == code)).victim


def test_round_trip(ctx):
    dek = crypto.new_data_key()
    aad = crypto.field_aad("victims", "given_names", "abc")
    blob = crypto.encrypt_value(dek, "María José Ñáñez", aad)
    assert blob[:1] == crypto.FORMAT_VERSION and "María".encode() not in blob
    assert crypto.decrypt_value(dek, blob, aad) == "María José Ñáñez"
    # A fresh nonce each time: equal plaintexts do not give equal ciphertexts.
    assert crypto.encrypt_value(dek, "María José Ñáñez", aad) != blob


def test_tampered_ciphertext_raises(ctx):
    dek = crypto.new_data_key()
    aad = crypto.field_aad("victims", "phone", "row1")
    blob = bytearray(crypto.encrypt_value(dek, "3001234567", aad))
    blob[-1] ^= 0x01
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_value(dek, bytes(blob), aad)
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_value(dek, b"\x07" + bytes(blob[1:]), aad)  # unknown format version
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_value(crypto.new_data_key(), crypto.encrypt_value(dek, "x", aad), aad)  # wrong data key


def test_wrong_associated_data_raises(ctx):
    dek = crypto.new_data_key()
    blob = crypto.encrypt_value(dek, "Yuliana", crypto.field_aad("victims", "given_names", "row1"))
    for table, column, row in (("victims", "given_names", "row2"), ("victims", "family_names", "row1"),
                               ("consents", "given_names", "row1")):
        with pytest.raises(crypto.CryptoError):
            crypto.decrypt_value(dek, blob, crypto.field_aad(table, column, row))


def test_value_copied_to_another_row_or_column_fails_loudly(two_cases):
    a, b = two_cases
    va, vb = _victim(a), _victim(b)
    # Same row, other column: the associated data names the column.
    va.family_names_enc = va.given_names_enc
    with pytest.raises(crypto.CryptoError):
        _ = va.family_names
    # Other row (and other data key): fails too.
    vb.given_names_enc = _victim(a).given_names_enc
    with pytest.raises(crypto.CryptoError):
        _ = vb.given_names
    db.session.rollback()


def test_value_moved_between_rows_sharing_a_key_still_fails(ctx):
    dek = crypto.new_data_key()
    blob = crypto.encrypt_value(dek, "52999888", crypto.field_aad("victims", "document_number", "uid-a"))
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_value(dek, blob, crypto.field_aad("victims", "document_number", "uid-b"))


def test_wrong_or_unknown_key_id_raises(two_cases):
    a, b = two_cases
    key = _victim(a).data_key
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_data_key("kek-00000000", key.wrapped)  # not in the keyring
    # A second KEK in the keyring: a data key wrapped under one does not unwrap under the other.
    ring = crypto.keyring()
    other = crypto.new_kek_id()
    ring.keks[other] = crypto.new_data_key()
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_data_key(other, key.wrapped)
    tampered = bytearray(key.wrapped)
    tampered[20] ^= 0xFF
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_data_key(key.kek_id, bytes(tampered))
    del ring.keks[other]


def test_a_keyring_prints_no_key(ctx):
    """A traceback that shows its local variables (a debugger, an error reporter) prints the keyring's repr."""
    ring = crypto.keyring()
    crypto.unwrap_data_key(*crypto.wrap_data_key(crypto.new_data_key()))  # its cipher made and kept
    shown = repr(ring)
    assert ring.active in shown
    for key in (*ring.keks.values(), ring.index_root, ring.audit_key, ring.token_key):
        assert repr(key) not in shown and crypto._b64(key) not in shown and key.hex() not in shown


def test_a_kek_replaced_under_its_id_is_the_one_used(ctx):
    """The cipher of a KEK is kept per key, not per id: a keyring whose key changed under the same id (rewritten
    by hand, restored from a backup) never unwraps with the old one."""
    ring = crypto.keyring()
    kek_id, wrapped = crypto.wrap_data_key(crypto.new_data_key())
    old = ring.keks[kek_id]
    ring.keks[kek_id] = crypto.new_data_key()
    try:
        with pytest.raises(crypto.CryptoError):
            crypto.unwrap_data_key(kek_id, wrapped)
        dek = crypto.new_data_key()
        assert crypto.unwrap_data_key(*crypto.wrap_data_key(dek, kek_id)) == dek
    finally:
        ring.keks[kek_id] = old
    assert len(crypto.unwrap_data_key(kek_id, wrapped)) == 32


def test_data_keys_are_per_victim_and_wrapped(two_cases):
    a, b = two_cases
    ka, kb = _victim(a).data_key, _victim(b).data_key
    assert ka.id != kb.id and ka.unwrap() != kb.unwrap()
    assert len(ka.unwrap()) == 32 and ka.unwrap() not in ka.wrapped
    assert ka.kek_id == crypto.keyring().active


def test_blind_index_normalises_and_truncates(ctx):
    bits = crypto.blind_index_bits(ctx.config["PLANNED_VICTIMS"])
    a = crypto.blind_index("victims/name", crypto.normalise_text("  MARÍA   José  Pérez-Gómez "))
    b = crypto.blind_index("victims/name", crypto.normalise_text("maria jose perez gomez"))
    assert a == b and 0 <= a < 2**bits
    assert crypto.normalise_document("cc", "1.077.123-456") == crypto.normalise_document("CC", "1077123456")
    assert crypto.normalise_phone("+57 312 444 5566") == crypto.normalise_phone("3124445566")
    # Each index has its own derived key: the same text indexes differently per purpose (usually).
    values = {crypto.blind_index(p, "1077123456", bits=32) for p in ("victims/document", "victims/phone")}
    assert len(values) == 2


def test_shredded_victim_reads_as_erased_and_keeps_counts(two_cases):
    from caseapp.services.registry.erasure import erase_case

    a, _b = two_cases
    erase_case(a, actor="cli")
    db.session.expire_all()
    victim = _victim(a)
    assert victim.erased and victim.data_key.destroyed
    assert victim.given_names == crypto.ERASED and repr(victim.given_names) == "ERASED"
    assert victim.document_number == crypto.ERASED and victim.phone == crypto.ERASED
    assert victim.document_bidx is None and victim.name_bidx is None and victim.phone_bidx is None
    case = db.session.scalar(select(Case).where(Case.code == a))
    assert case.linked_on is not None and victim.sex == "female" and victim.age_group == "27-29"
    with pytest.raises(crypto.KeyDestroyed):
        db.session.get(DataKey, victim.data_key_id).unwrap()
