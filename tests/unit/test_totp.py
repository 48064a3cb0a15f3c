"""TOTP matching: ±1 time step, six digits only, each time step usable once."""
from __future__ import annotations

import time

import pyotp
import pytest

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.services import accounts
from caseapp.services.accounts import login

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_match_within_one_step():
    totp = pyotp.TOTP(SECRET)
    now = 1_750_000_000
    base = now // 30
    assert accounts.match_totp(SECRET, totp.at(now), at=now) == base
    assert accounts.match_totp(SECRET, totp.at(now - 30), at=now) == base - 1
    assert accounts.match_totp(SECRET, totp.at(now + 30), at=now) == base + 1
    assert accounts.match_totp(SECRET, totp.at(now - 90), at=now) is None
    assert accounts.match_totp(SECRET, totp.at(now + 90), at=now) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12345a", None, "１２３４５６"])
def test_malformed_codes(code):
    assert accounts.match_totp(SECRET, code) is None


def test_spaces_are_ignored():
    now = 1_750_000_000
    code = pyotp.TOTP(SECRET).at(now)
    assert accounts.match_totp(SECRET, f" {code[:3]} {code[3:]} ", at=now) == now // 30


def test_no_secret_never_matches():
    assert accounts.match_totp(None, "123456") is None


def test_counter_claimed_once(ctx, factory):
    u = factory.user("ana")
    counter = int(time.time()) // 30
    assert login._claim_counter(u.id, counter)
    assert not login._claim_counter(u.id, counter)  # replay
    assert not login._claim_counter(u.id, counter - 1)  # an older step after a newer one
    assert login._claim_counter(u.id, counter + 1)
    db.session.commit()
    assert db.session.get(User, u.id).totp_last_counter == counter + 1


def test_verify_second_factor_service(ctx, factory):
    u = factory.user("ana")
    pending = accounts.open_pending(db.session.get(User, u.id))
    user = accounts.verify_second_factor(pending, u.totp(), "127.0.0.1")
    assert user.id == u.id and user.get_id()  # a server-side session token
    with pytest.raises(accounts.LoginFailed) as failure:  # the half-done login was used up
        accounts.verify_second_factor(pending, u.totp(), "127.0.0.1")
    assert failure.value.reason == "not_pending" and failure.value.final
    with pytest.raises(accounts.LoginFailed) as failure:  # a new one, but the code was already used
        accounts.verify_second_factor(accounts.open_pending(user), u.totp(), "127.0.0.1")
    assert failure.value.reason == "replayed_code" and not failure.value.final
