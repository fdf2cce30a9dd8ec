"""Real servers for tests: a throw-away Dovecot IMAP server and a scriptable SMTP sink, both
on 127.0.0.1 at a free port (fixtures in ``tests/conftest.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from imapclient import IMAPClient

HOST = "127.0.0.1"
DOVECOT_ENV = "MAILBOT_DOVECOT"  # explicit path to the dovecot binary (tests may point it away)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def find_dovecot() -> str | None:
    """Path of the ``dovecot`` binary or None: ``$MAILBOT_DOVECOT`` if set, else ``$PATH`` plus
    /usr/sbin and /usr/local/sbin (a normal Debian user's PATH lacks them)."""
    if DOVECOT_ENV in os.environ:
        p = os.environ[DOVECOT_ENV]
        return p if p and os.access(p, os.X_OK) else None
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    return shutil.which("dovecot", path=path)


def live_group_members(pgid: int) -> list[int]:
    """PIDs of the live (not zombie) processes in process group ``pgid``, from /proc."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # state ppid pgrp ...
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def _stop_group(proc: subprocess.Popen, tmp: str | None) -> None:
    """SIGTERM dovecot's process group (a bare master SIGTERM takes 1-10 s), reap the master,
    wait until no live group member is left (SIGKILL stragglers by pid), remove ``tmp``.
    Children reparented to PID 1 may linger as zombies until it reaps them."""
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGTERM)  # start_new_session=True: pgid == master pid
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    deadline = time.monotonic() + 5
    while (live := live_group_members(proc.pid)) and time.monotonic() < deadline:
        if time.monotonic() > deadline - 3:
            for pid in live:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


class DovecotServer:
    """A private Dovecot (``dovecot -F -c CONF``): one passwd-file user, Maildir, everything in
    a fresh temp dir.  As root mail processes run as ``nobody``, otherwise as the caller."""

    def __init__(self, user: str = "helpdesk@example.test", password: str | None = None,
                 binary: str | None = None) -> None:
        self.binary = binary or find_dovecot()
        if not self.binary:
            raise FileNotFoundError("dovecot binary not found")
        path = os.pathsep.join([str(Path(self.binary).parent), os.environ.get("PATH", ""),
                                "/usr/bin", "/usr/local/bin"])
        self.doveadm_bin = shutil.which("doveadm", path=path) or "doveadm"
        self.host, self.port = HOST, 0
        self.user = user
        self.password = password or secrets.token_urlsafe(12)
        self.root = Path(tempfile.mkdtemp(prefix="mailbot-dovecot-"))
        self.conf_path = self.root / "dovecot.conf"
        self.log_path = self.root / "dovecot.log"
        self._proc: subprocess.Popen | None = None
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.root), True)

    def _write_config(self) -> None:
        r = self.root
        mail = r / "mail"
        for d in (r / "run", r / "state", mail):
            d.mkdir(exist_ok=True)
        (r / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chmod(r, 0o755)  # the mail processes (nobody) and auth (dovecot) must get in
            os.chmod(r / "users", 0o644)
            os.chown(mail, nobody.pw_uid, nobody.pw_gid)
            ids, extra = f"uid={nobody.pw_uid} gid={nobody.pw_gid}", ""
        else:
            me, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
            ids = f"uid={os.getuid()} gid={os.getgid()}"
            extra = (f"default_login_user = {me}\ndefault_internal_user = {me}\n"
                     f"default_internal_group = {group}\nservice anvil {{\n  chroot =\n}}\n")
        login_chroot = "" if os.geteuid() == 0 else "  chroot =\n"
        self.conf_path.write_text(f"""\
protocols = imap
listen = {HOST}
base_dir = {r}/run
state_dir = {r}/state
log_path = {self.log_path}
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
first_valid_uid = 1
mail_fsync = never
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/users
}}
userdb {{
  driver = static
  args = {ids} home={mail}/%u
}}
service imap-login {{
{login_chroot}  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{extra}""")

    def start(self, timeout: float = 10.0) -> DovecotServer:
        """Start Dovecot and wait until it greets on ``port``; raise RuntimeError otherwise."""
        for _attempt in range(3):  # free_port() can race with another process: retry
            self.port = free_port()
            self._write_config()
            out = open(self.root / "stdout.log", "ab")  # noqa: SIM115 - handed to Popen
            self._proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.conf_path)], stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            out.close()
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, _stop_group, self._proc, str(self.root))
            if self._wait_ready(timeout):
                return self
            _stop_group(self._proc, None)
            if "Address already in use" not in self.log_tail():
                break
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"dovecot did not start on {HOST}:{self.port}:\n{tail}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._proc and self._proc.poll() is None:
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def log_tail(self, lines: int = 30) -> str:
        """Last lines of dovecot's stdout/stderr and log file, for error messages."""
        files = [p for p in (self.root / "stdout.log", self.log_path) if p.exists()]
        return "".join("".join(p.read_text(errors="replace").splitlines(True)[-lines:])
                       for p in files)

    def stop(self) -> None:
        """Stop Dovecot and all its processes, delete the temp dir (idempotent)."""
        self._finalizer()

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self) -> IMAPClient:
        """A new IMAPClient (ssl=False, timeout=10), logged in as ``user``. Caller logs out."""
        c = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        c.login(self.user, self.password)
        return c

    def append(self, raw: bytes, folder: str = "INBOX", flags: Iterable[bytes | str] = (),
               msg_time=None) -> int:
        """APPEND ``raw`` to ``folder``; return its UID (from the APPENDUID response)."""
        with self.client() as c:
            resp = c.append(folder, raw, flags=tuple(flags), msg_time=msg_time)
        m = re.search(rb"APPENDUID \d+ (\d+)", resp)
        return int(m.group(1)) if m else 0

    def create_folder(self, name: str) -> None:
        """Create a mailbox (hierarchy separator is ``.``)."""
        with self.client() as c:
            c.create_folder(name)

    def doveadm(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        """Run ``doveadm -c CONF ARGS``; CalledProcessError unless the exit code is in ``ok``."""
        proc = subprocess.run([self.doveadm_bin, "-c", str(self.conf_path), *args],
                              capture_output=True, text=True, timeout=30)
        if proc.returncode not in ok:
            raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout,
                                                proc.stderr)
        return proc

    def kick(self, timeout: float = 5.0) -> None:
        """Drop every session of ``user`` (``doveadm kick``); return once ``doveadm who`` no
        longer lists it, so the next command on an old connection fails deterministically."""
        self.doveadm("kick", self.user, ok=(0, 68))  # 68 (EX_NOUSER): nobody was logged in
        deadline = time.monotonic() + timeout
        while self.user in self.doveadm("who", "-1").stdout and time.monotonic() < deadline:
            time.sleep(0.05)

    def reset_uidvalidity(self, folder: str = "INBOX") -> tuple[int, int]:
        """Give ``folder`` a new UIDVALIDITY, keeping its messages; return (old, new).

        Reads the messages (bytes, flags, INTERNALDATE), expunges them, kicks the user's
        sessions, runs ``doveadm mailbox update --uid-validity old+1`` and re-appends them in
        order: they get new UIDs above the old UIDNEXT."""
        with self.client() as c:
            old = c.select_folder(folder)[b"UIDVALIDITY"]
            uids = c.search(["ALL"])
            msgs = c.fetch(uids, ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"]) if uids else {}
            if uids:
                c.add_flags(uids, [b"\\Deleted"])
                c.expunge()
        self.kick()
        new = (old % 0xFFFFFFFF) + 1
        self.doveadm("mailbox", "update", "-u", self.user, "--uid-validity", str(new), folder)
        with self.client() as c:
            for d in (msgs[u] for u in sorted(msgs)):
                flags = [f for f in d[b"FLAGS"] if f != b"\\Recent"]
                c.append(folder, d[b"BODY[]"], flags=flags, msg_time=d[b"INTERNALDATE"])
            got = c.select_folder(folder)[b"UIDVALIDITY"]
        if got != new:
            raise RuntimeError(f"UIDVALIDITY of {folder} is {got}, expected {new}")
        return old, new


class SmtpSink:
    """A real aiosmtpd server that records accepted messages as ``(mail_from, rcpt_tos,
    content)`` and scripts failures.  With ``auth={"user": "pw"}`` it offers AUTH PLAIN/LOGIN
    without TLS and answers MAIL with 530 until the client has authenticated."""

    STAGES = ("MAIL", "RCPT", "DATA")

    def __init__(self, auth: dict[str, str] | None = None) -> None:
        self.host, self.port = HOST, 0
        self.auth = auth
        self.logins: list[str] = []  # user names that authenticated successfully
        self._messages: list[tuple[str, list[str], bytes]] = []
        self._script: list[tuple[str, str, str]] = []
        self._down_after: int | None = None  # go_down_after(): messages left before going down
        self._cond = threading.Condition()
        self._controller: Controller | None = None

    def start(self) -> SmtpSink:
        """Start the server thread on a free port (aiosmtpd cannot be given port 0)."""
        kw = {"authenticator": self._authenticate, "auth_require_tls": False} if self.auth else {}
        self.port = free_port()
        self._controller = Controller(self, hostname=self.host, port=self.port, ready_timeout=10,
                                      **kw)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop the server thread (idempotent)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def restart(self) -> SmtpSink:
        """Start again on the same port, as a mail server coming back after :meth:`stop` or
        :meth:`go_down_after` (recorded messages are kept)."""
        self.stop()
        kw = {"authenticator": self._authenticate, "auth_require_tls": False} if self.auth else {}
        self._controller = Controller(self, hostname=self.host, port=self.port, ready_timeout=10,
                                      **kw)
        self._controller.start()
        return self

    def go_down_after(self, count: int) -> None:
        """Accept ``count`` more messages, then go down: that last message gets its 250, its
        connection is closed and the port stops listening (connections are refused) until
        :meth:`restart`."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._cond:
            self._down_after = count

    def lose_reply_next(self, times: int = 1) -> None:
        """The next ``times`` messages are accepted and recorded, then the connection is reset
        before the 250 is sent: the client cannot know its message got through."""
        self._add("lose_reply", "DATA", "", times)

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def messages(self) -> list[tuple[str, list[str], bytes]]:
        """Snapshot of the accepted messages, oldest first."""
        with self._cond:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, list[str], bytes]]:
        """Wait until at least ``count`` messages were accepted; return them (maybe fewer)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._messages) >= count, timeout)
            return list(self._messages)

    def clear(self) -> None:
        """Forget the recorded messages."""
        with self._cond:
            self._messages.clear()

    def fail_next(self, reply: str, times: int = 1, at: str = "RCPT") -> None:
        """Answer the next ``times`` transactions with ``reply`` (``'451 4.3.0 try later'``) at
        ``at``: MAIL, RCPT (every recipient) or DATA.  Such messages are not recorded."""
        self._add("fail", at, reply, times)

    def disconnect_next(self, times: int = 1, at: str = "DATA") -> None:
        """Hard-drop (TCP RST, no reply) the next ``times`` transactions at ``at``: MAIL, RCPT or
        DATA (content received, before the reply).  Such messages are not recorded."""
        self._add("disconnect", at, "", times)

    def _add(self, kind: str, at: str, reply: str, times: int) -> None:
        if at not in self.STAGES:
            raise ValueError(f"at must be one of {self.STAGES}")
        with self._cond:
            self._script.extend([(kind, at, reply)] * times)

    # -- aiosmtpd hooks (run in the controller's thread) ----------------------------------------
    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.auth:
            user, pw = auth_data.login.decode(), auth_data.password.decode()
            if self.auth.get(user) == pw:
                with self._cond:
                    self.logins.append(user)
                return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        """aiosmtpd hook; picks this transaction's scripted action, if any."""
        if self.auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        with self._cond:
            envelope.sink_action = self._script.pop(0) if self._script else None
        return await self._scripted(server, envelope, "MAIL") or "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        """aiosmtpd hook."""
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return await self._scripted(server, envelope, "RCPT") or "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        """aiosmtpd hook; records the message unless scripted otherwise."""
        action = getattr(envelope, "sink_action", None)
        if action and action[0] == "lose_reply":
            self._record(envelope)
            envelope.sink_action = ("disconnect", "DATA", "")
        reply = await self._scripted(server, envelope, "DATA")
        if reply:
            return reply
        self._record(envelope)
        with self._cond:
            if self._down_after is not None:
                self._down_after -= 1
            going_down = self._down_after == 0
            if going_down:
                self._down_after = None
        if going_down:  # once this reply is written: close, and stop listening
            asyncio.get_running_loop().call_soon(self._go_down, server)
        return "250 OK"

    def _record(self, envelope) -> None:
        with self._cond:
            self._messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                   bytes(envelope.content)))
            self._cond.notify_all()

    def _go_down(self, server) -> None:
        if self._controller is not None and self._controller.server is not None:
            self._controller.server.close()  # the listening socket: refuse new connections
        server.transport.close()  # after the buffered 250 is sent

    async def _scripted(self, server, envelope, stage: str) -> str | None:
        action = getattr(envelope, "sink_action", None)
        if not action or action[1] != stage:
            return None
        if action[0] == "disconnect":
            sock = server.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            server.transport.abort()  # RST; connection_lost() then cancels this task
            await asyncio.sleep(10)
        return action[2]
