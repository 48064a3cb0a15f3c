"""`flask keys init|status|rotate`: rotation rewraps every data key and keeps every value readable."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case
from caseapp.models.keys import DataKey
from caseapp.services import registry as cases


def _register(app, worker, n=3) -> list[str]:
    with app.test_request_context():
        user = db.session.get(User, worker.id)
        codes = [
            cases.register_case(user, {
                "given_names": f"Persona{i}", "family_names": "Rentería", "document_type": "CC",
                "document_number": f"1100{i:04d}", "phone": f"300555{i:04d}", "identified_on": "2024-03-01",
                "identification_source": "ngo", "exploitation_purposes": ["begging"], "trafficking_scope": "internal",
                "consent_assistance": True,
            }).code
            for i in range(n)
        ]
    return codes


def _status(runner) -> dict[str, int]:
    result = runner.invoke(args=["keys", "status"])
    assert result.exit_code == 0, result.output
    return {m[0]: int(m[1]) for m in re.findall(r"^(kek-[0-9a-f]+)(?: \(active\))?: wraps (\d+)", result.output, re.M)}


def test_init_creates_once_and_keeps_existing(app, runner, instance_path):
    path = instance_path / crypto.KEYRING_FILE
    result = runner.invoke(args=["keys", "init"])
    assert result.exit_code == 0
    before = path.read_text()
    assert "Kept existing" in runner.invoke(args=["keys", "init"]).output
    assert path.read_text() == before
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_rotate_rewraps_everything_and_values_stay_readable(app, runner, factory, instance_path):
    worker = factory.user("ana")
    codes = _register(app, worker)
    with app.app_context():
        wrapped_before = {k.id: k.wrapped for k in db.session.scalars(select(DataKey))}
        old_active = crypto.keyring().active
    before = _status(runner)
    assert before[old_active] == len(wrapped_before)  # the victims' keys and the system key

    result = runner.invoke(args=["keys", "rotate", "--batch", "2"])
    assert result.exit_code == 0, result.output
    new_active = json.loads((instance_path / crypto.KEYRING_FILE).read_text())["active"]
    assert new_active != old_active and new_active in result.output

    after = _status(runner)
    assert after[new_active] == len(wrapped_before) and after.get(old_active, 0) == 0

    with app.test_request_context():
        keys = list(db.session.scalars(select(DataKey)))
        assert all(k.kek_id == new_active and k.wrapped != wrapped_before[k.id] for k in keys)
        for i, code in enumerate(codes):
            victim = db.session.scalar(select(Case).where(Case.code == code)).victim
            assert (victim.given_names, victim.document_number) == (f"Persona{i}", f"1100{i:04d}")
        user = db.session.get(User, worker.id)
        assert user.totp_secret == worker.totp_secret  # account secrets too
        # Blind indexes do not depend on the KEK: search still works.
        assert [c.code for c in cases.search_cases(user, document_type="CC", document_number="11000001")] == [codes[1]]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "keys.rotate"))
        assert event.object_ref == new_active

    # Rotating again keeps the older keys in the ring, so values wrapped under them could still be read.
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0
    ring = json.loads((instance_path / crypto.KEYRING_FILE).read_text())
    assert {old_active, new_active} <= set(ring["keks"]) and ring["active"] not in (old_active, new_active)
    with app.app_context():
        victim = db.session.scalar(select(Case).where(Case.code == codes[0])).victim
        assert victim.given_names == "Persona0"


def test_status_counts_destroyed_keys(app, runner, factory):
    from caseapp.services.registry.erasure import erase_case

    worker = factory.user("ana")
    codes = _register(app, worker, n=2)
    with app.test_request_context():
        erase_case(codes[0])
    result = runner.invoke(args=["keys", "status"])
    assert "destroyed (erased victims): 1" in result.output
