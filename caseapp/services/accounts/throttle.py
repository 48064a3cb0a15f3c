"""Sign-in throttling by growing delays (NIST SP 800-63B 5.2.2), never a hard lockout a stranger can trigger.

Failed attempts are counted under three keys, each with its own free tries and cap (LOGIN_THROTTLE):
- the pair (account, address): someone guessing one account from one place; delays grow fast (to minutes);
- the account, from any address: a guesser spread over many addresses; delays stay mild (seconds), so that a
  stranger elsewhere can slow the real user down a little but never lock her out;
- the address, over any account: one place trying many accounts; capped at a minute, so that an office behind
  one NAT address is slowed, never shut out.
After `free` failures under a key, the next attempt is refused until 2^(failures - free) seconds have passed,
up to the cap. A key forgets its failures after LOGIN_THROTTLE_WINDOW without one. A success clears the pair
and the account, not the address (one good account must not wash a guessing address clean).

Keys are keyed hashes of the typed username (existing or not: no oracle of which accounts exist) and of the
address, so this table never holds what someone typed. State is in the database: every app server shares it.
"""
from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import LoginThrottle
from caseapp.timeutil import utcnow

KINDS = ("pair", "account", "address", "device")
FORGET_AFTER = timedelta(days=1)  # rows older than this (and not blocking) are deleted as failures come in


def _username(username: str | None) -> str:
    return (username or "").strip().lower()[:256]


def keys(username: str | None, ip: str | None, device: str | None = None) -> dict[str, str]:
    """{kind: key} for what applies: no address (the CLI, a test) means only the account key. A known device of
    the account (devices.py) has its own key instead: what strangers do elsewhere never slows it down."""
    if device:
        return {"device": crypto.hash_token(f"throttle:device:{device}")}
    name = _username(username)
    out = {}
    if name and ip:
        out["pair"] = crypto.hash_token(f"throttle:pair:{name}\x00{ip}")
    if name:
        out["account"] = crypto.hash_token(f"throttle:account:{name}")
    if ip:
        out["address"] = crypto.hash_token(f"throttle:address:{ip}")
    return out


def delay_for(kind: str, failures: int) -> timedelta:
    """How long after the latest failure the next attempt under `kind` waits."""
    free, cap = current_app.config["LOGIN_THROTTLE"][kind]
    if failures < free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - free, 30)), cap)


def wait_seconds(username: str | None, ip: str | None, device: str | None = None) -> int:
    """Seconds before another attempt for this username from this address is heard (0: now)."""
    found = list(keys(username, ip, device).values())
    if not found:
        return 0
    now = utcnow()
    latest = db.session.scalar(
        select(LoginThrottle.blocked_until)
        .where(LoginThrottle.key.in_(found), LoginThrottle.blocked_until > now)
        .order_by(LoginThrottle.blocked_until.desc()).limit(1)
    )
    return math.ceil((latest - now).total_seconds()) if latest is not None else 0


def _bump(key: str, now, *, windowed: bool = True, **values) -> int:
    """Add one failure under `key` (starting again after the window, when `windowed`), setting `values` too;
    returns the count. Atomic per row."""
    failures = LoginThrottle.failures + 1
    if windowed:
        window_start = now - current_app.config["LOGIN_THROTTLE_WINDOW"]
        failures = case((LoginThrottle.last_failure_at < window_start, 1), else_=failures)
    stmt = (
        update(LoginThrottle).where(LoginThrottle.key == key)
        .values(failures=failures, last_failure_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if not db.session.execute(stmt).rowcount:
        try:
            with db.session.begin_nested():
                db.session.add(LoginThrottle(key=key, failures=1, last_failure_at=now, **values))
        except IntegrityError:  # another server inserted it first
            db.session.execute(stmt)
    return db.session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key))


def record_failure(username: str | None, ip: str | None, device: str | None = None) -> int:
    """Count a failed attempt under every key that applies; returns the longest wait it sets (seconds).
    The caller commits (with the access-log row of the failure)."""
    now = utcnow()
    longest = timedelta(0)
    for kind, key in keys(username, ip, device).items():
        delay = delay_for(kind, _bump(key, now))
        if delay:
            db.session.execute(
                update(LoginThrottle).where(LoginThrottle.key == key).values(blocked_until=now + delay)
                .execution_options(synchronize_session=False)
            )
            longest = max(longest, delay)
    db.session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < now - FORGET_AFTER,
            or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until < now),
        ).execution_options(synchronize_session=False)
    )
    return math.ceil(longest.total_seconds())


def clear(username: str | None, ip: str | None, device: str | None = None) -> None:
    """After a successful sign-in: the pair, the account and the device start afresh (the address does not)."""
    found = {**keys(username, ip), **keys(username, ip, device)} if device else keys(username, ip)
    mine = [found[k] for k in ("pair", "account", "device") if k in found]
    if mine:
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(mine))
                           .execution_options(synchronize_session=False))


# --- the second factor's ceiling ----------------------------------------------------------------------------
# Delays alone let someone who has the password guess codes forever, spread over addresses (one every half
# minute is 2,880 a day). NIST SP 800-63B 5.2.2 caps consecutive failures: past LOGIN_MAX_CODE_FAILURES wrong
# codes in a row the second factor stops answering until an admin resets it (whoever reaches it holds the password).

FOREVER = timedelta(days=36500)


def _codes_key(user_id: int) -> str:
    return crypto.hash_token(f"throttle:codes:{user_id}")


def code_failures(user_id: int) -> int:
    return db.session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == _codes_key(user_id))) or 0


def codes_exhausted(user_id: int) -> bool:
    return code_failures(user_id) >= current_app.config["LOGIN_MAX_CODE_FAILURES"]


def count_code_failure(user_id: int) -> int:
    """One more wrong code in a row (no window: only a correct code or a reset clears it; blocked "forever" so the
    clean-up of old rows keeps it). The caller commits."""
    now = utcnow()
    return _bump(_codes_key(user_id), now, windowed=False, blocked_until=now + FOREVER)


def clear_code_failures(user_id: int) -> None:
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == _codes_key(user_id))
                       .execution_options(synchronize_session=False))
