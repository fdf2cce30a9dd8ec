"""Engine creation: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL, with the schema
brought to the newest migration (``mailbot/migrations``, Alembic) before it is used.

Every start runs :func:`upgrade_schema`:

- a database already at the newest revision: one read, nothing else;
- an empty database: every migration from the first (there is no ``create_all``: a new
  database is built exactly like an upgraded one, and tests/test_migrations.py checks that
  the result matches the models);
- a database an older mailbot made without migrations (tables, no ``alembic_version``):
  stamped ``0001`` (the baseline, that schema) and upgraded;
- a versioned database: upgraded.

Two mailbots starting at once take turns: the upgrade runs in one transaction under a lock
(SQLite: ``BEGIN IMMEDIATE``, PostgreSQL: an advisory lock), and the second one finds the
work done. Any failure rolls the whole upgrade back.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel, create_engine

from mailbot.errors import MailbotError
from mailbot.store import models  # noqa: F401  (registers the tables)

if TYPE_CHECKING:  # alembic is imported late, see below
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger("mailbot.db")
# Importing alembic announces each of its autogenerate plugins at INFO: noise in every
# command's output. Silenced here, so alembic is imported only in functions, after this.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
BASELINE = "0001"  # the schema of the last mailbot without migrations
PG_LOCK_KEY = 0x6D61696C626F74  # "mailbot": pg_advisory_xact_lock key around upgrades
SQLITE_BUSY_MS = 5_000  # how long a connection waits for another's write lock
SQLITE_MIGRATION_BUSY_MS = 600_000  # how long a second mailbot waits for the first's upgrade


class SchemaError(MailbotError):
    """The database's schema cannot be brought to this mailbot's: it is newer than this
    code, it is not a schema mailbot ever made, or the models have columns that no
    migration creates."""


def make_engine(url: str, *, upgrade: bool = True) -> Engine:
    """Create an engine for *url* and bring its schema to the newest migration
    (:func:`upgrade_schema`; ``upgrade=False`` leaves it as it is, to look at it).

    For SQLite the parent folder is created, and every connection gets WAL
    journaling (readers do not block the poller), foreign keys and a busy
    timeout so the scheduler's two jobs can share the file.
    """
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if upgrade:
        upgrade_schema(engine)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    _journal_mode_wal(cursor, SQLITE_BUSY_MS)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _journal_mode_wal(cursor: sqlite3.Cursor, wait_ms: int) -> None:
    """``PRAGMA journal_mode=WAL``, waiting up to *wait_ms* for another connection that
    holds the write lock, which the busy timeout alone does not do here.

    WAL mode is written in the file's header, so the first connection to a file not yet
    in WAL mode (a new one) writes it: it takes a read lock, then the write lock, and SQLite
    does not call the busy handler for that second step (a reader asking for the write
    lock while another connection has it could deadlock with it, so it is refused at once:
    https://sqlite.org/c3ref/busy_handler.html). Two mailbots starting together on a new
    file both switch it: the one that found the other switching failed with "database is
    locked" whatever its busy timeout. Its statement failed as a whole and let go of the
    read lock, so the other one finishes; tried again, the file is in WAL mode (the pragma
    then only reads the header) or it switches it itself.
    """
    deadline = time.monotonic() + wait_ms / 1000
    pause = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            busy = (exc.sqlite_errorcode & 0xFF) == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


# --- migrations -------------------------------------------------------------------------

def alembic_config(connection: Connection | None = None,
                   script_location: Path | None = None) -> Config:
    """Alembic's configuration, without an alembic.ini: the scripts shipped in the package
    and, for commands that touch a database, the *connection* env.py is to use."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def head_revision(script_location: Path | None = None) -> str:
    """The newest revision this mailbot knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(None, script_location)).get_current_head()
    assert head is not None, "no migration scripts"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: empty, or made before migrations existed)."""
    with engine.connect() as conn:
        return _revision(conn)


def _revision(conn: Connection) -> str | None:
    # Read directly: alembic's MigrationContext logs two INFO lines each time.
    if not inspect(conn).has_table("alembic_version"):
        return None
    versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:
        raise SchemaError(f"the database is at several schema revisions at once: {versions}")
    return versions[0] if versions else None


def upgrade_schema(engine: Engine, revision: str = "head", *, verify: bool = True,
                   script_location: Path | None = None) -> tuple[str | None, str]:
    """Bring the database to *revision* (default: the newest); ``(from, to)`` revisions.

    With *verify* (the default), after an upgrade to the newest revision every table and
    column of the models must exist, or :class:`SchemaError` is raised and the upgrade
    rolled back: models.py changed without a migration (``mailbot db revision``).
    """
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(None, script_location))
    target = script.get_revision(revision)
    assert target is not None
    before = current_revision(engine)  # the usual case: no lock, one read
    if before == target.revision:
        log.debug("database %s: schema at %s, nothing to upgrade", _name(engine), before)
        return before, before
    with locked_connection(engine) as conn:
        before = _revision(conn)  # again, under the lock
        if before == target.revision:
            log.debug("database %s: another process upgraded it to %s", _name(engine), before)
            return before, before
        before = _upgrade_locked(conn, script, before, target.revision, script_location)
        if verify and target.revision == script.get_current_head():
            _verify_models(conn)
    if before is None:
        log.info("database %s: schema created at revision %s", _name(engine), target.revision)
    else:
        log.info("database %s: schema upgraded from revision %s to %s", _name(engine), before,
                 target.revision)
    return before, target.revision


def _upgrade_locked(conn: Connection, script: ScriptDirectory, before: str | None,
                    target: str, script_location: Path | None) -> str | None:
    """Upgrade from *before* to *target*; the revision it really started from."""
    from alembic import command  # only when there is something to do

    config = alembic_config(conn, script_location)
    if before is not None:
        try:
            script.get_revision(before)
        except Exception as exc:  # alembic raises several kinds for an unknown revision
            raise SchemaError(
                f"the database is at schema revision {before!r}, which this mailbot does not "
                f"know (its newest is {script.get_current_head()}): it was upgraded by a newer "
                "mailbot. Run that version, or restore the backup taken before the upgrade."
            ) from exc
    elif _mailbot_tables(conn):
        log.info("database %s: mailbot's tables without a schema revision (made before "
                 "migrations existed): taken as revision %s", _name(conn.engine), BASELINE)
        command.stamp(config, BASELINE)
        before = BASELINE
    command.upgrade(config, target)
    return before


def _mailbot_tables(conn: Connection) -> set[str]:
    baseline = {"tickets", "messages", "ticket_events", "outbox", "folder_state"}
    return baseline & set(inspect(conn).get_table_names())


def _verify_models(conn: Connection) -> None:
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    missing = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in existing:
            missing.append(table.name)
            continue
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in columns]
    if missing:
        raise SchemaError(
            "after the upgrade the database still lacks " + ", ".join(missing) + ": either "
            "models.py has changes no migration makes (write one: mailbot db revision -m ...), "
            "or this database was made by a mailbot older than the migrations' baseline "
            f"({BASELINE}). Nothing was changed.")


@contextlib.contextmanager
def locked_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction no other mailbot holds at the same time, committed
    at the end (rolled back on error). The schema may be changed through it.

    SQLite (a file): a connection of its own, with driver autocommit so that mailbot
    emits ``BEGIN IMMEDIATE`` itself (the write lock, taken at once; DDL is then
    transactional, which the driver's default mode does not give), foreign keys off (a
    table copy in batch mode drops and renames tables others refer to), and a long busy
    timeout. PostgreSQL: ``pg_advisory_xact_lock``, released at commit.
    """
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        private = create_engine(engine.url, poolclass=NullPool)
        event.listen(private, "connect", _sqlite_migration_pragmas)
        try:
            with private.connect() as conn:
                conn.info["transactional_ddl"] = True  # for env.py (alembic's log says so)
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                with _commit_or_rollback(conn):
                    yield conn
        finally:
            private.dispose()
        return
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        with _commit_or_rollback(conn):
            yield conn


@contextlib.contextmanager
def _commit_or_rollback(conn: Connection) -> Iterator[None]:
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def _sqlite_migration_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.isolation_level = None  # the driver begins nothing; we BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_MIGRATION_BUSY_MS}")
    _journal_mode_wal(cursor, SQLITE_MIGRATION_BUSY_MS)
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


def _name(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def write_revision(message: str, *, autogenerate: bool = True,
                   script_location: Path | None = None) -> Path | None:
    """Write the next migration script (``mailbot db revision``), numbered after the newest:
    with *autogenerate*, what the models have that the migrations do not make, found by
    comparing them with a scratch SQLite database built by the migrations. The file
    written, or None when there was no difference."""
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(None, script_location))
    numbers = [int(r.revision) for r in script.walk_revisions() if r.revision.isdigit()]
    rev_id = f"{max(numbers, default=0) + 1:04d}"

    def keep_if_changed(_context: Any, _revision: Any, directives: list[Any]) -> None:
        if autogenerate and directives[0].upgrade_ops.is_empty():
            directives[:] = []

    with tempfile.TemporaryDirectory(prefix="mailbot-revision-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/scratch.db", upgrade=False)
        try:
            upgrade_schema(engine, verify=False, script_location=script_location)
            with engine.connect() as conn:
                written = command.revision(alembic_config(conn, script_location),
                                           message=message, autogenerate=autogenerate,
                                           rev_id=rev_id,
                                           process_revision_directives=keep_if_changed)
        finally:
            engine.dispose()
    if not written:  # [] when nothing was generated
        return None
    return Path(written[0].path if isinstance(written, list) else written.path)
