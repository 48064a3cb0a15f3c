"""Two rules held by the database, not only read-then-insert in code: one criminal proceeding per case, and one
open assignment per user and role on a case (partial unique indexes, which SQLite and PostgreSQL both have).

Rows that break them already (two requests at the same moment) are resolved first, so that the indexes can be built
on any real database:

- duplicate open assignments: the oldest stays open, the others are closed now (ended_at; ended_by left empty,
  no one ended them). Every row stays, so the case's history does too.
- duplicate criminal proceedings of a case: they are merged into one — the one with most of its filing recorded
  (filing date, receiving office, case number), the oldest among equals. Its events and stage history move to it,
  a filing date it lacks is taken from the others, and the others are deleted. Their encrypted office and case
  number are bound to their own row and cannot be moved by a migration (it holds no key): a duplicate that had one
  where the one kept also has one is a second copy of the same filing, made by the race.

Downgrading drops the two indexes.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04

"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OPEN = "ended_at IS NULL"
CRIMINAL = "kind = 'criminal'"


def _close_duplicate_assignments(conn) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # naive UTC, as the application stores it
    conn.execute(sa.text(
        "UPDATE case_assignments SET ended_at = :now WHERE ended_at IS NULL AND EXISTS ("
        "SELECT 1 FROM case_assignments o WHERE o.case_id = case_assignments.case_id "
        "AND o.user_id = case_assignments.user_id AND o.role = case_assignments.role "
        "AND o.ended_at IS NULL AND o.id < case_assignments.id)"), {"now": now})


def _merge_duplicate_criminal_proceedings(conn) -> None:
    rows = conn.execute(sa.text(
        "SELECT id, case_id, complaint_filed_on, receiving_office_enc IS NOT NULL, "
        "criminal_case_number_enc IS NOT NULL FROM legal_proceedings p WHERE kind = 'criminal' AND case_id IN ("
        "SELECT case_id FROM legal_proceedings WHERE kind = 'criminal' GROUP BY case_id HAVING count(*) > 1) "
        "ORDER BY case_id, id")).all()
    by_case: dict[int, list] = {}
    for row in rows:
        by_case.setdefault(row[1], []).append(row)
    for group in by_case.values():
        keep = max(group, key=lambda r: (sum(bool(v) for v in (r[2], r[3], r[4])), -r[0]))
        others = [r[0] for r in group if r[0] != keep[0]]
        filed = min((r[2] for r in group if r[2] is not None), default=None)
        for table in ("legal_events", "legal_stage_changes"):
            conn.execute(sa.text(f"UPDATE {table} SET proceeding_id = :keep "  # noqa: S608 (fixed table names)
                                 "WHERE proceeding_id IN :others").bindparams(sa.bindparam("others", expanding=True)),
                         {"keep": keep[0], "others": others})
        if keep[2] is None and filed is not None:
            conn.execute(sa.text("UPDATE legal_proceedings SET complaint_filed_on = :filed WHERE id = :keep"),
                         {"filed": filed, "keep": keep[0]})
        conn.execute(sa.text("DELETE FROM legal_proceedings WHERE id IN :others")
                     .bindparams(sa.bindparam("others", expanding=True)), {"others": others})


def upgrade():
    conn = op.get_bind()
    _close_duplicate_assignments(conn)
    _merge_duplicate_criminal_proceedings(conn)
    op.create_index("uq_case_assignments_open", "case_assignments", ["case_id", "user_id", "role"], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index("uq_legal_proceedings_criminal", "legal_proceedings", ["case_id"], unique=True,
                    sqlite_where=sa.text(CRIMINAL), postgresql_where=sa.text(CRIMINAL))


def downgrade():
    op.drop_index("uq_legal_proceedings_criminal", table_name="legal_proceedings")
    op.drop_index("uq_case_assignments_open", table_name="case_assignments")
