"""Shared fixtures: real Dovecot / SMTP servers (logic in tests/servers.py) and ../shared data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot.service import Service
from tests.helpers import local_config
from tests.pgserver import PostgresServer, find_postgres
from tests.servers import DovecotServer, SmtpSink, find_dovecot

SHARED = Path(__file__).resolve().parents[2] / "shared"
REQUIRE_SERVERS = os.environ.get("MAILBOT_REQUIRE_SERVERS") == "1"


def shared_dir(sub: str = "") -> Path:
    """``../shared/<sub>`` beside the checkout; skip the calling test when it is absent."""
    path = SHARED / sub
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (expected a shared/ folder beside the repo)")
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the ``dovecot`` fixture with ``imap`` (``-m 'not imap'``)."""
    for item in items:
        if "dovecot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.imap)


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A fresh, started Dovecot per test (own temp dir, port, user ``helpdesk@example.test``
    with a random password), stopped afterwards even if the test fails.

    Function scope on purpose: start-up takes well under a second, and a private server per
    test means no state leaks between tests. Skips when dovecot is not installed, unless
    ``MAILBOT_REQUIRE_SERVERS=1`` (CI), which turns the skip into a failure.
    """
    if not find_dovecot():
        skip_or_fail("dovecot not installed: apt-get install dovecot-imapd "
                     "(or set MAILBOT_DOVECOT=/path/to/dovecot)")
    yield from running(DovecotServer())


def skip_or_fail(reason: str) -> None:
    """Skip a test whose real server is missing; fail it in CI (MAILBOT_REQUIRE_SERVERS=1)."""
    if REQUIRE_SERVERS:
        pytest.fail(f"{reason} [MAILBOT_REQUIRE_SERVERS=1]")
    pytest.skip(reason)


def running(server):  # type: ignore[no-untyped-def]
    """Start *server*, yield it, and stop it even if the test failed."""
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A started SmtpSink (no AUTH) per test; build ``SmtpSink(auth={...})`` for AUTH tests."""
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def service(tmp_path: Path) -> Service:
    """The embedded default (Maildir in, SQLite, Maildir out) under ``tmp_path``."""
    return Service.from_config(local_config(tmp_path))


@pytest.fixture
def inbox(service: Service) -> Path:
    """The Maildir that ``service`` polls; drop mail in with ``helpers.deliver``."""
    return service.config.source.maildir.path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL for the whole session (tests/pgserver.py): start-up (initdb)
    takes a couple of seconds, so tests share it and get their own database from
    ``postgres_url``. Skips when PostgreSQL or psycopg is not installed, unless
    ``MAILBOT_REQUIRE_SERVERS=1`` (CI), which turns the skip into a failure."""
    reason = None
    if not find_postgres():
        reason = ("PostgreSQL not installed: apt-get install postgresql "
                  "(or set MAILBOT_POSTGRES_BIN=/folder/with/initdb_and_pg_ctl)")
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            reason = "psycopg not installed: uv sync (dev group) or uv sync --extra postgres"
    if reason:
        skip_or_fail(reason)
    yield from running(PostgresServer())


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL (``postgresql+psycopg://...``) of a fresh, empty database ``test_<random>`` on
    ``postgres_server``, dropped after the test (connections still open are ended)."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url_for(name)
    finally:
        postgres_server.drop_database(name)
