"""Regenerate migrations/versions/0001_initial_schema.py from the models.

Only while revision 0001 has never been released: once it lands on a deployment, schema changes go in
new revisions (`flask db migrate`) and this script must not be run again.
"""
from __future__ import annotations

import sys
from pathlib import Path

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import caseapp.models  # noqa: E402,F401
from caseapp.extensions import db  # noqa: E402

TEMPLATE = '''"""Initial schema: every table of the first release.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


def _strip(code: str) -> str:
    return "\n".join(line for line in code.splitlines() if not line.lstrip().startswith("# ###"))


def main() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "target_metadata": db.metadata})
        script = produce_migrations(ctx, db.metadata)
    opts = {"alembic_module_prefix": "op.", "sqlalchemy_module_prefix": "sa.", "render_as_batch": False}
    upgrade = _strip(render_python_code(script.upgrade_ops, **opts))
    downgrade = _strip(render_python_code(script.downgrade_ops, **opts))
    path = ROOT / "migrations" / "versions" / "0001_initial_schema.py"
    path.write_text(TEMPLATE.format(upgrade=upgrade.rstrip(), downgrade=downgrade.rstrip()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
