"""Alembic environment for mailbot's migrations.

Run by mailbot itself (``mailbot.store.db.upgrade_schema`` on every start, ``mailbot db
...``), never through an ``alembic.ini``: the caller opens the connection, takes the lock
and owns the transaction, and hands the connection over in
``config.attributes["connection"]``.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from mailbot.store import models  # noqa: F401  (fills SQLModel.metadata for autogenerate)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write SQLModel's own types as the plain SQLAlchemy types they create (``str`` ->
    VARCHAR, ``datetime`` -> timestamp with time zone): migrations need no sqlmodel import
    and keep working whatever sqlmodel's types become."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    if context.is_offline_mode():
        raise RuntimeError("mailbot's migrations run online only (mailbot db upgrade)")
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run mailbot's migrations through mailbot (mailbot db upgrade, "
                           "mailbot db revision), not the alembic command")
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=True,  # SQLite changes tables by copy and move
        render_item=render_item,
        compare_type=True,
        compare_server_default=True,
        # SQLite's DDL is transactional when mailbot opens the transaction itself
        # (mailbot.store.db.locked_connection); alembic would otherwise assume it is not.
        transactional_ddl=connection.info.get("transactional_ddl"),
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
