"""Search on PostgreSQL: one GIN index over (repo_id, tsv) instead of tsv alone.

With the repository and the words in one GIN index (the ``btree_gin`` extension, shipped
with PostgreSQL and trusted, so a database owner may create it), a search reads only the
matching pieces of its repository: ~1 ms for a rare word in three novels, where the
planner otherwise took the primary key's index to the repository and tested every piece
(~13 ms, detoasting each ``tsv``; its costs do not count that work). Where the extension
is not installed, the index stays on ``tsv`` alone (searches still work, slower on
large repositories; docs/admin-guide.md says how to add it).

SQLite is unchanged (its FTS5 table answers from its own index).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gin")
    except sa.exc.DBAPIError as exc:
        savepoint.rollback()
        log.warning("btree_gin is not available (%s): search keeps its index on tsv alone", exc)
        return
    savepoint.commit()
    op.execute("CREATE INDEX ix_search_chunks_repo_tsv ON search_chunks USING gin (repo_id, tsv)")
    op.execute("DROP INDEX ix_search_chunks_tsv")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX IF NOT EXISTS ix_search_chunks_tsv ON search_chunks USING gin (tsv)")
    op.execute("DROP INDEX IF EXISTS ix_search_chunks_repo_tsv")
    # The extension stays: other objects of the database may use it by now.
