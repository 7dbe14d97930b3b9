"""Alembic environment: runs on the connection `gitwrite_sync.db.migrate` hands over.

There is no alembic.ini: `gitwrite_sync.db.migrate` builds the configuration in code and
passes an open connection (inside a transaction, so an upgrade is all or nothing on both
databases) in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from gitwrite_sync.db.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render `UTCDateTime` as the plain column type it stores as, so migrations do not
    import the models (a migration must keep working after the models change)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through gitwrite_sync.db.migrate (or `gitwrite-server migrate`)"
    )
run_migrations(connection)
