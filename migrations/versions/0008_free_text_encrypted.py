"""Free text of a case's tables encrypted under the victim's data key: a legal event's title, the office that
received the complaint and who decided a phase extension. Existing values are encrypted in place (plain SQL and
caseapp.crypto, no application models), then the clear columns are dropped, so that erasing her identity (destroying
her data key) erases them too. A value whose key was already destroyed is dropped: it belonged to an erased victim.

Blind indexes were 15 bits wide whatever the scale; their width is now sized from the planned number of victims
and recorded in the settings table. A database with indexed victims records 15, the width its indexes have, until
`flask victims reindex` recomputes them at the planned width.

A reopened case's reason becomes a catalogue code (case_closures.reopen_code); the free text written before stays
where it was, encrypted, as the reopening's note, and its code is "other".

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (table, clear column, its length before this revision)
MOVED = (
    ("legal_events", "title", 120),
    ("legal_proceedings", "receiving_office", 200),
    ("phase_extensions", "decided_by", 200),
)


def _keys_sql(table: str, column: str) -> sa.TextClause:
    return sa.text(
        f"SELECT t.id, t.uid, t.{column} AS value, k.kek_id, k.wrapped FROM {table} t "  # noqa: S608 - constants
        "JOIN cases c ON c.id = t.case_id JOIN victims v ON v.id = c.victim_id "
        "JOIN data_keys k ON k.id = v.data_key_id"
    )


def _move(conn, table: str, source: str, target: str, convert) -> None:
    """Rewrite every row's `source` value into `target` with `convert(dek, value, aad)` (None: drop it)."""
    from caseapp import crypto

    rows = conn.execute(_keys_sql(table, source)).mappings().all()
    deks: dict = {}
    for row in rows:
        if row["value"] in (None, b"", ""):
            continue
        new = None
        if row["wrapped"] is not None:
            cache_key = (row["kek_id"], bytes(row["wrapped"]))
            if cache_key not in deks:
                deks[cache_key] = crypto.unwrap_data_key(row["kek_id"], bytes(row["wrapped"]))
            new = convert(deks[cache_key], row["value"], crypto.field_aad(table, source.removesuffix("_enc"),
                                                                           row["uid"]))
        conn.execute(sa.text(f"UPDATE {table} SET {target} = :v WHERE id = :id"),  # noqa: S608 - constants
                     {"v": new, "id": row["id"]})


def upgrade():
    from caseapp import crypto

    conn = op.get_bind()
    for table, column, _length in MOVED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(f"{column}_enc", sa.LargeBinary(), nullable=True))
        _move(conn, table, column, f"{column}_enc",
              lambda dek, value, aad: crypto.encrypt_value(dek, str(value), aad))
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
    with op.batch_alter_table("case_closures") as batch:
        batch.add_column(sa.Column("reopen_code", sa.String(length=32), nullable=True))
    op.execute("UPDATE case_closures SET reopen_code = 'other' WHERE reopened_on IS NOT NULL")
    indexed = conn.execute(sa.text("SELECT COUNT(*) FROM victims WHERE document_bidx IS NOT NULL "
                                   "OR name_bidx IS NOT NULL OR phone_bidx IS NOT NULL")).scalar()
    if indexed:
        conn.execute(sa.text("INSERT INTO settings (key, value, version) VALUES ('blind_index_bits', '15', 1)"))


def downgrade():
    # Indexes at another width than 15 would silently stop matching: refuse rather than break searches.
    width = op.get_bind().execute(sa.text("SELECT value FROM settings WHERE key = 'blind_index_bits'")).scalar()
    if width not in (None, "15"):
        raise RuntimeError("blind indexes are not 15 bits wide: set RUTA_PLANNED_VICTIMS=100000 and run "
                           "`flask victims reindex` before downgrading")
    op.execute("DELETE FROM settings WHERE key = 'blind_index_bits'")
    with op.batch_alter_table("case_closures") as batch:
        batch.drop_column("reopen_code")
    from caseapp import crypto

    conn = op.get_bind()
    for table, column, length in MOVED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.String(length=length), nullable=False, server_default=""))

        def clear(dek, blob, aad):
            return crypto.decrypt_value(dek, bytes(blob), aad)

        # Read the ciphertext and write the clear text back (an erased victim's value stays empty).
        rows = conn.execute(_keys_sql(table, f"{column}_enc")).mappings().all()
        for row in rows:
            if row["value"] is None or row["wrapped"] is None:
                continue
            dek = crypto.unwrap_data_key(row["kek_id"], bytes(row["wrapped"]))
            value = clear(dek, row["value"], crypto.field_aad(table, column, row["uid"]))
            conn.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"),  # noqa: S608 - constants
                         {"v": value[:length], "id": row["id"]})
        with op.batch_alter_table(table) as batch:
            batch.drop_column(f"{column}_enc")
            batch.alter_column(column, server_default=None)
