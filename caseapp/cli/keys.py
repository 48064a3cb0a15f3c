"""`flask keys init|rotate|status`: the keyring and the data keys it wraps."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select, update

from caseapp import audit, crypto
from caseapp.extensions import db
from caseapp.models.keys import DataKey

group = AppGroup("keys", help="Manage the encryption keyring.")


@group.command("init")
def init() -> None:
    """Create the keyring in the instance folder when there is none; leave an existing one alone."""
    if current_app.config.get("KEYRING_JSON"):
        click.echo("The keyring comes from CASEAPP_KEYRING; nothing to create.")
        return
    path, created = crypto.init_keyring()
    click.echo(f"{'Created' if created else 'Kept existing'} keyring at {path}")


@group.command("status")
def status() -> None:
    """Show key ids, which is active, and how many data keys each wraps."""
    ring = crypto.keyring()
    counts = dict(
        db.session.execute(
            select(DataKey.kek_id, func.count()).where(DataKey.wrapped.is_not(None)).group_by(DataKey.kek_id)
        ).all()
    )
    destroyed = db.session.scalar(select(func.count()).select_from(DataKey).where(DataKey.wrapped.is_(None)))
    for kek_id in sorted(set(ring.keks) | set(counts)):
        marker = " (active)" if kek_id == ring.active else ""
        missing = "" if kek_id in ring.keks else " MISSING FROM KEYRING"
        click.echo(f"{kek_id}{marker}: wraps {counts.get(kek_id, 0)} data keys{missing}")
    click.echo(f"destroyed (erased victims): {destroyed}")


@group.command("rotate")
@click.option("--batch", default=500, show_default=True, help="Data keys rewrapped per transaction.")
def rotate(batch: int) -> None:
    """Add a new active key-encryption key and rewrap every data key under it (data is not re-encrypted).

    Online: the old key stays in the keyring, so running servers read both until they pick up the new one.
    """
    if current_app.config.get("KEYRING_JSON"):
        raise click.ClickException(
            "the keyring comes from CASEAPP_KEYRING: add a new KEK there, make it active, restart, then run "
            "`flask keys rewrap`"
        )
    path = crypto.keyring_path()
    with crypto.keyring_file_lock(path):
        # Re-read under the lock: a concurrent rotation must not drop the key another one just added.
        ring = crypto.Keyring.from_json(path.read_text(), source=path)
        new_id = crypto.new_kek_id()
        ring.keks[new_id] = crypto.new_data_key()
        ring.active = new_id
        ring.save(path)
    crypto.keyring(reload=True)
    total = _rewrap(batch)
    audit.record("keys.rotate", actor="cli", object_type="keyring", object_ref=new_id, detail={"rewrapped": total})
    db.session.commit()
    click.echo(f"Active key is now {new_id}; rewrapped {total} data keys.")


@group.command("rewrap")
@click.option("--batch", default=500, show_default=True)
def rewrap(batch: int) -> None:
    """Rewrap every data key not yet under the active key-encryption key."""
    crypto.keyring(reload=True)
    total = _rewrap(batch)
    audit.record("keys.rewrap", actor="cli", object_type="keyring", object_ref=crypto.keyring().active,
                 detail={"rewrapped": total})
    db.session.commit()
    click.echo(f"Rewrapped {total} data keys.")


def _rewrap(batch: int) -> int:
    """Rewrap in batches. Each UPDATE is guarded, so a key destroyed (erasure) or rewrapped meanwhile stays as it is."""
    active = crypto.keyring().active
    total, after = 0, 0
    while True:
        rows = db.session.execute(
            select(DataKey.id, DataKey.kek_id, DataKey.wrapped)
            .where(DataKey.kek_id != active, DataKey.wrapped.is_not(None), DataKey.id > after)
            .order_by(DataKey.id)
            .limit(batch)
        ).all()
        if not rows:
            return total
        for row in rows:
            kek_id, wrapped = crypto.wrap_data_key(crypto.unwrap_data_key(row.kek_id, row.wrapped), active)
            result = db.session.execute(
                update(DataKey)
                .where(DataKey.id == row.id, DataKey.kek_id == row.kek_id, DataKey.wrapped == row.wrapped)
                .values(kek_id=kek_id, wrapped=wrapped)
            )
            total += result.rowcount or 0
        db.session.commit()
        after = rows[-1].id
