"""A throw-away PostgreSQL server for tests, on 127.0.0.1 at a free port (fixtures
``postgres_server`` and ``postgres_url`` in ``tests/conftest.py``).

Kept apart from ``tests/servers.py`` (Dovecot, SMTP) so that file stays small; it reuses
its ``HOST`` and ``free_port``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path
from urllib.parse import quote

from tests.servers import HOST, free_port

POSTGRES_ENV = "MAILBOT_POSTGRES_BIN"  # explicit folder holding initdb, pg_ctl, postgres
TOOLS = ("initdb", "pg_ctl", "postgres")


def _has_tools(folder: str) -> bool:
    return all(os.access(os.path.join(folder, t), os.X_OK) for t in TOOLS)


def find_postgres() -> str | None:
    """Folder of PostgreSQL's server binaries (``initdb``, ``pg_ctl``, ``postgres``) or None:
    ``$MAILBOT_POSTGRES_BIN`` if set, else the newest /usr/lib/postgresql/*/bin (Debian keeps
    them off ``$PATH``), else the folder of ``pg_ctl`` on ``$PATH``."""
    if POSTGRES_ENV in os.environ:
        folder = os.environ[POSTGRES_ENV]
        return folder if folder and _has_tools(folder) else None

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.name))

    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if _has_tools(folder):
            return folder
    pg_ctl = shutil.which("pg_ctl")
    return os.path.dirname(pg_ctl) if pg_ctl and _has_tools(os.path.dirname(pg_ctl)) else None


def _pg_ctl_stop(run: list[str], pg_ctl: str, data: Path, root: Path) -> None:
    """Stop the server at once (no checkpoint: the data is thrown away) and delete *root*."""
    if (data / "postmaster.pid").exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([*run, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "-t", "20",
                            "stop"], cwd=root, capture_output=True, timeout=30)
    shutil.rmtree(root, ignore_errors=True)


class PostgresServer:
    """A private PostgreSQL cluster in a fresh temp dir (``initdb`` + ``pg_ctl start``).

    The superuser ``postgres`` connects only over the Unix socket in the temp dir (trust);
    TCP on 127.0.0.1 needs a password (scram-sha-256): the role ``user`` / ``password``
    owns ``database`` and may create more (:meth:`create_database`). As root the server
    runs as the ``postgres`` system user (PostgreSQL refuses root), otherwise as the caller.
    fsync is off: the data only has to outlive a test session.
    """

    SUPERUSER = "postgres"

    def __init__(self, user: str = "mailbot", password: str | None = None,
                 database: str = "mailbot", bindir: str | None = None) -> None:
        self.bindir = bindir or find_postgres()
        if not self.bindir:
            raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.host, self.port = HOST, 0
        self.user, self.database = user, database
        self.password = password or secrets.token_urlsafe(12)
        self.root = Path(tempfile.mkdtemp(prefix="mailbot-postgres-"))
        self.data, self.socket_dir = self.root / "data", self.root / "run"
        self.log_path = self.root / "postgres.log"
        self._run: list[str] = []  # prefix that runs a command as the server's owner
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres" if _user_exists("postgres") else "nobody")
            os.chmod(self.root, 0o700)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._run = ["runuser", "-u", owner.pw_name, "--"]
        self.socket_dir.mkdir()
        if self._run:
            os.chown(self.socket_dir, owner.pw_uid, owner.pw_gid)
        self._started = False
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.root), True)

    def _tool(self, name: str) -> str:
        return os.path.join(self.bindir, name)

    def _cmd(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*self._run, *args], cwd=self.root, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def start(self, timeout: float = 30.0) -> PostgresServer:
        """initdb, start, create the role and database; RuntimeError with the log otherwise."""
        init = self._cmd(self._tool("initdb"), "-D", str(self.data), "-U", self.SUPERUSER,
                         "-E", "UTF8", "--locale=C", "--auth-local=trust",
                         "--auth-host=scram-sha-256", "--no-sync")
        if init.returncode != 0:
            self.stop()
            raise RuntimeError(f"initdb failed:\n{init.stdout}{init.stderr}")
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _pg_ctl_stop, self._run, self._tool("pg_ctl"),
                                           self.data, self.root)
        for _attempt in range(3):  # free_port() can race with another process: retry
            self.port = free_port()
            options = f"-h {HOST} -p {self.port} -k {self.socket_dir} -F"
            proc = self._cmd(self._tool("pg_ctl"), "-D", str(self.data), "-l",
                             str(self.log_path), "-o", options, "-w", "-t", str(int(timeout)),
                             "start", timeout=timeout + 10)
            if proc.returncode == 0:
                self._started = True
                break
            if "already in use" not in self.log_tail():
                break
        if not self._started:
            tail = self.log_tail() + proc.stdout + proc.stderr
            self.stop()
            raise RuntimeError(f"postgres did not start on {HOST}:{self.port}:\n{tail}")
        with self.admin() as conn:
            literal = self.password.replace("'", "''")
            conn.execute(f'CREATE ROLE "{self.user}" LOGIN CREATEDB PASSWORD \'{literal}\'')
        self.create_database(self.database)
        return self

    def admin(self, dbname: str = "postgres"):  # -> psycopg.Connection
        """A psycopg connection as superuser over the Unix socket, autocommit on."""
        import psycopg  # dev dependency; imported late so collection works without it

        return psycopg.connect(host=str(self.socket_dir), port=self.port, user=self.SUPERUSER,
                               dbname=dbname, autocommit=True, connect_timeout=10)

    def create_database(self, name: str | None = None) -> str:
        """CREATE DATABASE *name* (default ``test_<random>``) owned by ``user``; its name."""
        name = name or f"test_{secrets.token_hex(6)}"
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"unsafe database name {name!r}")
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{self.user}"')
        return name

    def drop_database(self, name: str) -> None:
        """DROP DATABASE *name*, ending any session still connected to it."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url_for(self, dbname: str) -> str:
        """SQLAlchemy URL for *dbname* as ``user`` over TCP (what mailbot's config takes)."""
        return (f"postgresql+psycopg://{quote(self.user, safe='')}:"
                f"{quote(self.password, safe='')}@{self.host}:{self.port}/{dbname}")

    @property
    def url(self) -> str:
        """``postgresql+psycopg://user:pw@127.0.0.1:PORT/database``."""
        return self.url_for(self.database)

    def log_tail(self, lines: int = 30) -> str:
        """Last lines of the server log, for error messages."""
        if not self.log_path.exists():
            return ""
        return "".join(self.log_path.read_text(errors="replace").splitlines(True)[-lines:])

    def stop(self) -> None:
        """``pg_ctl stop -m immediate`` and delete the temp dir (idempotent)."""
        self._started = False
        self._finalizer()

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
