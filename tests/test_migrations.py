"""Schema migrations (mailbot/migrations, run by mailbot.store.db.make_engine on start).

Databases made by the last mailbot without migrations are built here with ``create_all``
of a frozen copy of its models (``Old*`` below, models.py at the baseline 0001): each
test that takes ``db_url`` runs on SQLite and on the real PostgreSQL (``postgres_url``;
skipped without PostgreSQL unless ``MAILBOT_REQUIRE_SERVERS=1``, which makes it fail).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Column,
    Engine,
    LargeBinary,
    MetaData,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, select

from mailbot.store.db import (
    BASELINE,
    MIGRATIONS_DIR,
    PG_LOCK_KEY,
    SchemaError,
    alembic_config,
    current_revision,
    head_revision,
    locked_connection,
    make_engine,
    upgrade_schema,
    write_revision,
)
from mailbot.store.models import Rating, Ticket, TicketEvent

ROOT = Path(__file__).resolve().parents[1]
HEAD = head_revision()
T0 = dt.datetime(2026, 11, 2, 8, 30, tzinfo=dt.UTC)


# --- the schema of the last mailbot without migrations (models.py at revision 0001) -----

def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OldModel(SQLModel, registry=registry()):
    """Own registry and metadata: these tables do not clash with mailbot's."""


class OldTicket(OldModel, table=True):
    __tablename__ = "tickets"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True)
    status: str = Field(default="nouvelle demande")
    requester: str = Field(index=True)
    requester_name: str = ""
    reply_to: str | None = None
    subject: str = ""
    language: str = "fr"
    priority: str = "normale"
    category: str | None = None
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=_now)
    updated_at: dt.datetime = Field(default_factory=_now)


class OldMessage(OldModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("direction", "message_id", "content_sha256",
                                       name="uq_message_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    direction: str = "in"
    message_id: str = Field(default="", index=True)
    content_sha256: str = ""
    origin: str = ""
    source_key: str = ""
    from_addr: str = ""
    subject: str = ""
    sent_at: dt.datetime | None = None
    kind: str = ""
    body_text: str = ""
    outcome: str = ""
    outcome_reason: str = ""
    outcome_detail: str = ""
    raw_sealed: bool = False
    rule_hits: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: dt.datetime = Field(default_factory=_now)


class OldTicketEvent(OldModel, table=True):
    __tablename__ = "ticket_events"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    kind: str = "status"
    old_status: str | None = None
    new_status: str | None = None
    detail: str = ""
    actor: str = "mailbot"
    at: dt.datetime = Field(default_factory=_now)


class OldOutboxEntry(OldModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    message_id: str = Field(unique=True)
    mail_from: str
    rcpt_to: str = Field(index=True)
    automatic: bool = True
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(default="pending", index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=_now)
    claimed_at: dt.datetime | None = None
    last_error: str = ""
    created_at: dt.datetime = Field(default_factory=_now)
    sent_at: dt.datetime | None = None


class OldFolderState(OldModel, table=True):
    __tablename__ = "folder_state"
    __table_args__ = (UniqueConstraint("origin", name="uq_folder_origin"),)

    id: int | None = Field(default=None, primary_key=True)
    origin: str
    uidvalidity: int = 0
    last_uid: int = 0
    updated_at: dt.datetime = Field(default_factory=_now)


class OldReport(OldModel, table=True):
    __tablename__ = "reports"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    message_row_id: int | None = Field(default=None, foreign_key="messages.id")
    report_id: str | None = Field(default=None, unique=True)
    signature: str | None = Field(default=None, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    name_digests: dict[str, str] = Field(default_factory=dict,
                                         sa_column=Column(JSON, nullable=False))
    received_at: dt.datetime = Field(default_factory=_now)


class OldIncident(OldModel, table=True):
    __tablename__ = "incidents"

    id: int | None = Field(default=None, primary_key=True)
    signature: str = Field(unique=True)
    app_version: str = ""
    error_code: str = ""
    first_seen: dt.datetime = Field(default_factory=_now)
    last_seen: dt.datetime = Field(default_factory=_now)


class OldIncidentTicket(OldModel, table=True):
    __tablename__ = "incident_tickets"
    __table_args__ = (UniqueConstraint("incident_id", "ticket_id", name="uq_incident_ticket"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    school: str = ""
    at: dt.datetime = Field(default_factory=_now)


class OldAccessLog(OldModel, table=True):
    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=_now)
    actor: str
    action: str
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    detail: str = ""


class OldFaqSuggestion(OldModel, table=True):
    __tablename__ = "faq_suggestions"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    article_id: str = Field(index=True)
    score: float = 0.0
    at: dt.datetime = Field(default_factory=_now)


OLD = OldModel.metadata


def fill_old_database(engine: Engine) -> None:
    """Rows in every table of the old schema, with every kind of value."""
    with Session(engine) as s:
        t1 = OldTicket(ref="ECN-AAAAAA", requester="claire@ecole.example",
                       requester_name="Claire", subject="Export bloqué", tags=["urgent", "é"],
                       created_at=T0, updated_at=T0 + dt.timedelta(hours=5),
                       status="solution proposée", category="technique")
        t2 = OldTicket(ref="ECN-BBBBBB", requester="paul@college.example", reply_to="p@x.example",
                       language="en", created_at=T0, updated_at=T0 + dt.timedelta(days=2))
        s.add_all([t1, t2])
        s.flush()
        m1 = OldMessage(ticket_id=t1.id, message_id="<1@ecole.example>", content_sha256="ab",
                        origin="maildir:inbox", source_key="1", from_addr="claire@ecole.example",
                        subject="Export bloqué", sent_at=T0, kind="normal", body_text="Bonjour",
                        outcome="new_ticket", raw_sealed=True, rule_hits=["urgence-mots"],
                        raw=bytes(range(256)), received_at=T0)
        m2 = OldMessage(direction="out", ticket_id=t1.id, message_id="<ack@support.example>",
                        raw=b"From: support\r\n\r\nAccuse", received_at=T0)
        m3 = OldMessage(message_id="<q@x.example>", outcome="quarantined", outcome_reason="parse",
                        outcome_detail="Traceback ...", raw=b"\x00\xff", received_at=T0)
        s.add_all([m1, m2, m3])
        s.flush()
        incident = OldIncident(signature="2.2.5:E42", app_version="2.2.5", error_code="E42",
                               first_seen=T0, last_seen=T0)
        s.add(incident)
        s.flush()
        s.add_all([
            OldTicketEvent(ticket_id=t1.id, new_status="nouvelle demande", at=T0),
            OldTicketEvent(ticket_id=t1.id, old_status="nouvelle demande",
                           new_status="solution proposée", detail="réponse", actor="mailbot",
                           at=T0 + dt.timedelta(hours=5)),
            OldOutboxEntry(ticket_id=t1.id, message_id="<ack@support.example>",
                           mail_from="support@example.test", rcpt_to="claire@ecole.example",
                           raw=b"ack", state="sent", attempts=1, sent_at=T0, created_at=T0,
                           next_attempt_at=T0),
            OldOutboxEntry(message_id="<n@support.example>", mail_from="support@example.test",
                           rcpt_to="x@y.example", automatic=False, raw=b"n", state="failed",
                           last_error="550 no", created_at=T0, next_attempt_at=T0),
            OldFolderState(origin="imap:INBOX", uidvalidity=7, last_uid=42, updated_at=T0),
            OldReport(ticket_id=t1.id, message_row_id=m1.id, report_id="r-1",
                      signature="2.2.5:E42", data={"findings": [{"code": "F1"}], "n": 3},
                      name_digests={"d1": "élève 1"}, received_at=T0),
            OldIncidentTicket(incident_id=incident.id, ticket_id=t1.id, school="ecole.example",
                              at=T0),
            OldAccessLog(actor="alice", action="show", ticket_id=t1.id, detail="cli", at=T0),
            OldFaqSuggestion(ticket_id=t1.id, article_id="export-pdf", score=0.75, at=T0),
        ])
        s.commit()


def snapshot(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every old table (old columns only), as read back."""
    with engine.connect() as conn:
        return {t.name: [dict(r._mapping) for r in conn.execute(t.select().order_by(t.c.id))]
                for t in OLD.sorted_tables}


def differences(engine: Engine, metadata: MetaData = SQLModel.metadata) -> list[Any]:
    """What alembic's autogenerate sees between *metadata* and the database (types and
    server defaults included); ``[]`` when they agree."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": True})
        return compare_metadata(context, metadata)


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a fresh database on the private PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mailbot.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engines() -> Any:
    """Collects engines to dispose of (before postgres_url drops the database)."""
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def engine_for(engines: list[Engine], url: str, **kw: Any) -> Engine:
    engine = make_engine(url, **kw)
    engines.append(engine)
    return engine


def mailbot_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mailbot.db"
            and r.levelno >= logging.INFO]


# --- (1) a database at the baseline upgrades with its data ----------------------------

def test_the_baseline_is_exactly_the_schema_of_mailbot_before_migrations(db_url, engines):
    engine = engine_for(engines, db_url, upgrade=False)
    assert upgrade_schema(engine, BASELINE) == (None, BASELINE)
    assert differences(engine, OLD) == []


def test_a_baseline_database_full_of_rows_upgrades_with_its_data_intact(db_url, engines, caplog):
    old = engine_for(engines, db_url, upgrade=False)
    upgrade_schema(old, BASELINE)
    fill_old_database(old)
    before = snapshot(old)
    assert all(before.values()), "every table holds rows"

    caplog.set_level(logging.INFO)
    engine = engine_for(engines, db_url)
    assert current_revision(engine) == HEAD
    assert mailbot_logs(caplog)[-1].endswith(f"schema upgraded from revision {BASELINE} to {HEAD}")
    assert snapshot(engine) == before
    assert differences(engine) == []
    check_new_columns_defaulted_and_usable(engine)


def check_new_columns_defaulted_and_usable(engine: Engine) -> None:
    with engine.connect() as conn:
        tickets = conn.execute(sql("SELECT * FROM tickets ORDER BY id")).mappings().all()
        events = conn.execute(sql("SELECT message_row_id FROM ticket_events")).scalars().all()
        ratings = conn.execute(sql("SELECT count(*) FROM ratings")).scalar()
    for row in tickets:
        assert row["status_changed_at"] == row["updated_at"]
        assert (row["assignee"], row["merged_into"], row["first_response_at"],
                row["resolved_at"], row["escalated_at"]) == (None,) * 5
    assert events == [None, None] and ratings == 0
    with Session(engine) as s:  # the current models read and write the upgraded tables
        ticket = s.exec(select(Ticket).where(Ticket.ref == "ECN-AAAAAA")).one()
        assert ticket.participants == [] and ticket.tags == ["urgent", "é"]
        message_id = s.exec(sql("SELECT id FROM messages WHERE direction = 'in' "
                                "ORDER BY id LIMIT 1")).scalar()
        ticket.participants = ["anne@ecole.example"]
        ticket.assignee = "bob@support.example"
        s.add_all([ticket, Rating(ticket_id=ticket.id, score=5, comment="merci",
                                  message_row_id=message_id),
                   TicketEvent(ticket_id=ticket.id, kind="note", actor="bob@support.example",
                               message_row_id=message_id)])
        s.commit()
        s.refresh(ticket)
        assert ticket.participants == ["anne@ecole.example"]
        assert s.exec(select(Rating)).one().message_row_id == message_id


# --- (2) a database without a revision (made before migrations) ------------------------

def test_an_unversioned_old_database_is_stamped_then_upgraded(db_url, engines, caplog):
    old = engine_for(engines, db_url, upgrade=False)
    OLD.create_all(old)  # exactly what the last mailbot without migrations did on start
    fill_old_database(old)
    before = snapshot(old)
    assert current_revision(old) is None

    caplog.set_level(logging.INFO)
    engine = engine_for(engines, db_url)
    assert current_revision(engine) == HEAD
    logs = mailbot_logs(caplog)
    assert f"taken as revision {BASELINE}" in logs[0]
    assert logs[1].endswith(f"schema upgraded from revision {BASELINE} to {HEAD}")
    assert snapshot(engine) == before
    assert differences(engine) == []
    check_new_columns_defaulted_and_usable(engine)


def test_an_unversioned_database_older_than_the_baseline_is_refused_untouched(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = make_engine(url, upgrade=False)
    OLD.create_all(old)
    fill_old_database(old)
    with old.begin() as conn:  # as before outbox.automatic existed
        conn.execute(sql("ALTER TABLE outbox DROP COLUMN automatic"))
    schema = sqlite_schema(tmp_path / "old.db")
    before = snapshot_without(old, "outbox")

    with pytest.raises(SchemaError, match=r"outbox\.automatic"):
        make_engine(url)
    assert sqlite_schema(tmp_path / "old.db") == schema  # rolled back: no revision, no column
    assert snapshot_without(old, "outbox") == before


def sqlite_schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


def snapshot_without(engine: Engine, table: str) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {t.name: [dict(r._mapping) for r in conn.execute(t.select())]
                for t in OLD.sorted_tables if t.name != table}


# --- (3) models and migrations agree -----------------------------------------------------

def test_a_new_database_built_by_the_migrations_matches_the_models(db_url, engines, caplog):
    caplog.set_level(logging.INFO)
    engine = engine_for(engines, db_url)
    assert mailbot_logs(caplog) == [
        f"database {engine.url.render_as_string()}: schema created at revision {HEAD}"]
    assert current_revision(engine) == HEAD
    assert differences(engine) == []
    assert set(inspect(engine).get_table_names()) == {*SQLModel.metadata.tables,
                                                       "alembic_version"}


def test_models_changed_without_a_migration_are_refused_before_any_change(db_url, engines,
                                                                           tmp_path):
    """As if models.py had 0002's columns and nobody had written 0002 (and later) yet."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    _drop_revisions_after_baseline(scripts)
    engine = engine_for(engines, db_url, upgrade=False)
    with pytest.raises(SchemaError, match=r"tickets\.assignee.*mailbot db revision"):
        upgrade_schema(engine, script_location=scripts)
    assert inspect(engine).get_table_names() == []  # rolled back, alembic_version included


def _drop_revisions_after_baseline(scripts: Path) -> None:
    for path in (scripts / "versions").glob("*.py"):
        if not path.name.startswith("0001_"):
            path.unlink()


@pytest.mark.filterwarnings("ignore:Autogenerate rendered a drop_constraint")  # in downgrade()
def test_the_revision_helper_writes_what_the_models_add(tmp_path):
    """``mailbot db revision``, on a copy of the scripts without 0002: it writes 0002's
    changes again, in batch mode, with plain SQLAlchemy types."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    assert write_revision("nothing new", script_location=scripts) is None  # in sync: no file
    _drop_revisions_after_baseline(scripts)

    path = write_revision("ticket lifecycle", script_location=scripts)
    assert path is not None and path.name == "0002_ticket_lifecycle.py"
    text = path.read_text().replace('"', "'")
    assert "down_revision = '0001'" in text
    assert "sqlmodel" not in text
    assert "sa.String()" in text and "sa.DateTime(timezone=True)" in text
    for added in ("op.batch_alter_table('tickets'", "'assignee'", "'participants'",
                  "'status_changed_at'", "'message_row_id'", "op.create_table('ratings'"):
        assert added in text


def test_an_empty_revision_is_numbered_next_and_runs(tmp_path):
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    path = write_revision("Fill in: due dates!", autogenerate=False, script_location=scripts)
    assert path is not None and path.name.startswith(f"{int(HEAD) + 1:04d}_")
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}", upgrade=False)
    assert upgrade_schema(engine, script_location=scripts) == (None, path.name[:4])


def test_db_commands_show_and_upgrade_an_old_database(tmp_path):
    from typer.testing import CliRunner

    from mailbot.cli import app

    url = f"sqlite:///{tmp_path / 'old.db'}"
    OLD.create_all(make_engine(url, upgrade=False))
    config = tmp_path / "mailbot.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')

    def run(*args: str) -> str:
        result = CliRunner().invoke(app, ["db", *args, "--config", str(config)])
        assert result.exit_code == 0, result.output
        return result.output

    assert run("current").startswith(f"no revision recorded (empty, or made before migrations); "
                                     f"newest is {HEAD}")
    assert run("upgrade").strip() == f"{BASELINE} -> {HEAD}"
    assert run("current").strip() == f"{HEAD} (newest)"
    assert run("upgrade").strip() == f"{HEAD} (already)"


# --- (4) starting again changes nothing --------------------------------------------------

def test_make_engine_twice_is_a_no_op(tmp_path, caplog):
    path = tmp_path / "mailbot.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with Session(engine) as s:
        s.add(Ticket(ref="ECN-CCCCCC", requester="a@b.example"))
        s.commit()
    schema, rows = sqlite_schema(path), snapshot(engine)

    # Nor does it wait for a writer: a start only reads when the schema is current.
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE tickets SET subject = 'x'")
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    again = make_engine(url)
    assert time.monotonic() - started < 2
    writer.execute("ROLLBACK")
    writer.close()
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
    assert sqlite_schema(path) == schema and snapshot(again) == rows
    assert current_revision(again) == HEAD


def test_make_engine_twice_is_a_no_op_on_postgres(postgres_url, engines, caplog):
    engine_for(engines, postgres_url)
    caplog.set_level(logging.INFO)
    again = engine_for(engines, postgres_url)
    assert caplog.records == [] and current_revision(again) == HEAD


def test_a_database_from_a_newer_mailbot_is_refused(db_url, engines):
    engine = engine_for(engines, db_url)
    with engine.begin() as conn:
        conn.execute(sql("UPDATE alembic_version SET version_num = '0999'"))
    with pytest.raises(SchemaError, match=r"0999.*newer mailbot"):
        engine_for(engines, db_url)


def test_a_failing_migration_leaves_the_database_as_it_was(db_url, engines, tmp_path):
    """Migrations run in one transaction (on SQLite too): a failure halfway changes nothing."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0999_broken.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = '0999'\ndown_revision = {HEAD!r}\nbranch_labels = depends_on = None\n\n\n"
        "def upgrade():\n"
        "    op.add_column('tickets', sa.Column('due', sa.String(), nullable=True))\n"
        "    op.create_table('scratch', sa.Column('id', sa.Integer(), primary_key=True))\n"
        "    op.execute('UPDATE tickets SET due = 1 / 0 WHERE nothing_here = 1')\n")
    engine = engine_for(engines, db_url)
    with pytest.raises(Exception, match="nothing_here"):
        upgrade_schema(engine, script_location=scripts)
    assert current_revision(engine) == HEAD
    assert differences(engine) == []  # no column "due", no table "scratch"


def test_downgrade_to_the_baseline_and_up_again(db_url, engines):
    engine = engine_for(engines, db_url)
    with locked_connection(engine) as conn:
        command.downgrade(alembic_config(conn), BASELINE)
    assert current_revision(engine) == BASELINE
    assert differences(engine, OLD) == []
    upgrade_schema(engine)
    assert differences(engine) == []


# --- (5) two mailbots starting at once -----------------------------------------------------

STARTER = """
import logging, sys, time
from pathlib import Path
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
from mailbot.store.db import current_revision, make_engine
Path(sys.argv[2]).touch()  # ready
while not Path(sys.argv[3]).exists():
    time.sleep(0.005)
print(current_revision(make_engine(sys.argv[1])))
"""


def start_together(url: str, tmp: Path, count: int = 2,
                   hold_lock: Any = None) -> list[subprocess.CompletedProcess]:
    """*count* processes calling make_engine(url) at the same moment; with *hold_lock*
    (a callable taking and then releasing the database's lock), they all find it held."""
    go = tmp / "go"
    ready = [tmp / f"ready-{i}" for i in range(count)]
    procs = [subprocess.Popen([sys.executable, "-c", STARTER, url, str(r), str(go)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
             for r in ready]
    try:
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in ready) and time.monotonic() < deadline:
            time.sleep(0.01)
        if hold_lock is None:
            go.touch()
        else:
            hold_lock(go)
        return [subprocess.CompletedProcess(p.args, p.wait(120), *p.communicate())
                for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def check_one_created_it(results: list[subprocess.CompletedProcess]) -> None:
    for r in results:
        assert (r.returncode, r.stdout.strip()) == (0, HEAD), r.stderr
    created = [r for r in results if f"schema created at revision {HEAD}" in r.stderr]
    assert len(created) == 1, [r.stderr for r in results]


@pytest.mark.parametrize("round_", range(3))
def test_two_processes_starting_at_once_on_a_new_sqlite_file_both_succeed(tmp_path, round_):
    url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    check_one_created_it(start_together(url, tmp_path))
    engine = make_engine(url)
    assert differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sql("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_processes_waiting_for_the_sqlite_lock_upgrade_once(tmp_path):
    """Both find the write lock taken (another mailbot upgrading): they wait, one upgrades,
    the other then finds the work done."""
    path = tmp_path / "mailbot.db"

    def hold_write_lock(go: Path) -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")
        go.touch()
        time.sleep(1.5)  # both have read "no revision" and wait on BEGIN IMMEDIATE
        conn.execute("COMMIT")
        conn.close()

    check_one_created_it(start_together(f"sqlite:///{path}", tmp_path,
                                        hold_lock=hold_write_lock))


def test_a_new_sqlite_file_another_process_is_switching_to_wal_is_waited_for(tmp_path, engines):
    """Switching a file to WAL writes its header: SQLite takes a read lock, then the write
    lock without calling the busy handler (it refuses at once, to avoid a deadlock). Two
    mailbots starting on a new file both switch it, and the one that came second failed
    with "database is locked" (the rare failure of the tests above, under load). Here the
    other's write lock, on a file not in WAL mode yet, is held when the engine first
    connects and let go half a second later: the engine waits for it."""
    path = tmp_path / "mailbot.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # what the other mailbot holds while switching to WAL
    released, after_pragmas = threading.Event(), []

    def release() -> None:
        time.sleep(0.5)
        released.set()
        other.execute("COMMIT")

    releaser = threading.Thread(target=release)
    engine = engine_for(engines, f"sqlite:///{path}", upgrade=False)
    event.listen(engine, "connect", lambda *_: releaser.start(), insert=True, once=True)
    event.listen(engine, "connect", lambda *_: after_pragmas.append(released.is_set()))
    try:
        assert upgrade_schema(engine) == (None, HEAD)
    finally:
        if releaser.is_alive():
            releaser.join()
        other.close()
    assert after_pragmas == [True]  # the pragmas waited for the other's lock
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_processes_waiting_for_the_postgres_lock_upgrade_once(postgres_url, tmp_path, engines):
    import psycopg

    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")

    def hold_advisory_lock(go: Path) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (PG_LOCK_KEY,))
            go.touch()
            time.sleep(1.5)
            conn.execute("SELECT pg_advisory_unlock(%s)", (PG_LOCK_KEY,))

    check_one_created_it(start_together(postgres_url, tmp_path, count=3,
                                        hold_lock=hold_advisory_lock))
    assert differences(engine_for(engines, postgres_url)) == []


def test_threads_starting_at_once_on_postgres_both_succeed(postgres_url, engines):
    barrier, errors = threading.Barrier(2), []

    def start() -> None:
        barrier.wait()
        try:
            engines.append(make_engine(postgres_url))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(engines) == 2
    assert current_revision(engines[0]) == HEAD
