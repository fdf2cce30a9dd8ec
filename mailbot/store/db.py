"""Engine creation: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, event
from sqlmodel import SQLModel, create_engine

from mailbot.store import models  # noqa: F401  (registers the tables)


def make_engine(url: str) -> Engine:
    """Create an engine for *url* and the tables if they do not exist yet.

    For SQLite the parent folder is created, and every connection gets WAL
    journaling (readers do not block the poller), foreign keys and a busy
    timeout so the scheduler's two jobs can share the file.
    """
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    SQLModel.metadata.create_all(engine)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
