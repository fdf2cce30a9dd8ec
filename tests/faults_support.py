"""Helpers for tests/test_faults.py: a mailbox of distinct mails, the real CLI in a child
process that can be SIGKILLed, read-only looks at the SQLite file while it runs, and
Message-ID counting at the SMTP sink."""

from __future__ import annotations

import email
import email.policy
import hashlib
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.mails import make_mail
from tests.servers import DovecotServer, SmtpSink

ROOT = Path(__file__).resolve().parents[1]
PROCESSED_FOLDER = "Traites"

SUBJECTS = [
    "Les photos ne se synchronisent plus",
    "Impossible d'ajouter une vidéo au carnet",
    "Question sur l'export des observations",
    "Le carnet d'un élève n'apparaît plus",
    "Problème d'affichage sur la tablette",
    "Comment partager le carnet avec les parents ?",
]


@dataclass(frozen=True)
class CorpusMail:
    """One mail of the fault-injection mailbox and what must become of it."""

    raw: bytes
    message_id: str  # "" when the mail has none
    sha256: str
    reply_to_index: int | None  # index (in the corpus) of the request this one answers

    @property
    def is_reply(self) -> bool:
        return self.reply_to_index is not None


def build_corpus(total: int = 200, replies: int = 24, without_id: int = 6) -> list[CorpusMail]:
    """*total* distinct mails: new requests, each from its own teacher (the loop guard allows
    only a few automatic answers per address and hour), *without_id* of them without a
    Message-ID, and *replies* replies threading through In-Reply-To to an earlier request of
    the same teacher. Deterministic: the same list every time."""
    pick = random.Random(20261125)  # the corpus never changes; the kill schedule does
    mails: list[CorpusMail] = []
    request_ids: list[int] = []  # corpus indexes of requests that have a Message-ID
    reply_every = total // (replies + 1)
    no_id_every = total // (without_id + 1)
    made_replies = made_no_id = 0
    for i in range(total):
        if made_replies < replies and i > 0 and i % reply_every == 0 and request_ids:
            target = pick.choice(request_ids)
            original = mails[target]
            sender = _sender(target)
            message_id = f"<reply-{i}@ecole{target % 13}.example>"
            raw = make_mail(
                f"Merci pour votre réponse. Précision numéro {i} : cela arrive aussi sur "
                f"l'ordinateur de la salle {i % 9 + 1}.\n\nCordialement,\n{sender[0]}\n",
                message_id=message_id,
                From=f"{sender[0]} <{sender[1]}>",
                Subject=f"Re: {SUBJECTS[target % len(SUBJECTS)]}",
                In_Reply_To=original.message_id, References=original.message_id,
            )
            mails.append(_mail(raw, message_id, target))
            made_replies += 1
            continue
        no_id = made_no_id < without_id and i % no_id_every == no_id_every // 2
        name, address = _sender(i)
        message_id = "" if no_id else f"<req-{i}@ecole{i % 13}.example>"
        raw = make_mail(
            f"Bonjour,\n\nDemande numéro {i} : {SUBJECTS[i % len(SUBJECTS)].lower()} depuis "
            f"lundi, dans ma classe de CM{i % 2 + 1}.\nPouvez-vous m'aider ?\n\n"
            f"Merci,\n{name}\n",
            message_id=message_id, From=f"{name} <{address}>",
            Subject=SUBJECTS[i % len(SUBJECTS)],
        )
        if no_id:
            made_no_id += 1
        else:
            request_ids.append(i)
        mails.append(_mail(raw, message_id, None))
    assert len({m.sha256 for m in mails}) == total, "corpus mails must be distinct"
    return mails


def _sender(i: int) -> tuple[str, str]:
    return f"Enseignant {i}", f"enseignant.{i}@ecole{i % 13}.example"


def _mail(raw: bytes, message_id: str, reply_to: int | None) -> CorpusMail:
    return CorpusMail(raw, message_id, hashlib.sha256(raw).hexdigest(), reply_to)


def append_all(dovecot: DovecotServer, raws: list[bytes], folder: str = "INBOX") -> None:
    """APPEND every message in order over one connection (one login, not one per mail)."""
    with dovecot.client() as client:
        for raw in raws:
            client.append(folder, raw)


def folder_flags(dovecot: DovecotServer, folder: str) -> dict[str, tuple[bytes, ...]]:
    """sha256 of each message in *folder* -> its flags (a repeated sha256 would be lost: the
    caller compares the count with :func:`folder_count`)."""
    with dovecot.client() as client:
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        data = client.fetch(uids, ["BODY.PEEK[]", "FLAGS"]) if uids else {}
    return {hashlib.sha256(d[b"BODY[]"]).hexdigest(): d[b"FLAGS"]
            for d in data.values()}


def folder_count(dovecot: DovecotServer, folder: str) -> int:
    with dovecot.client() as client:
        return int(client.select_folder(folder, readonly=True)[b"EXISTS"])


def write_imap_config(path: Path, dovecot: DovecotServer, sink: SmtpSink, *,
                      imap_port: int | None = None, batch_size: int = 100,
                      claim_timeout: float = 600.0) -> Path:
    """A mailbot.toml for Dovecot in (moving processed mail to ``Traites``) and the SMTP sink
    out, SQLite (WAL) and keys beside it. The IMAP password comes from the environment."""
    folder = path.parent
    path.write_text(f"""
[identity]
support_address = "helpdesk@example.test"
message_id_domain = "mailbot.example.test"

[database]
url = "sqlite:///{folder / 'mailbot.db'}"

[privacy]
keys_file = "{folder / 'mailbot.keys'}"

[logging]
level = "WARNING"

[source]
kind = "imap"
[source.imap]
host = "{dovecot.host}"
port = {imap_port or dovecot.port}
security = "plain"
user = "{dovecot.user}"
folder = "INBOX"
move_to = "{PROCESSED_FOLDER}"
timeout_seconds = 10
batch_size = {batch_size}

[sender]
kind = "smtp"
[sender.smtp]
host = "{sink.host}"
port = {sink.port}
security = "plain"
timeout_seconds = 10

[outbox]
claim_timeout_seconds = {claim_timeout}
""", encoding="utf-8")
    return path


def cli_command(*args: str) -> list[str]:
    """The real ``mailbot`` command, as ``python -m mailbot`` with this interpreter (what the
    ``mailbot`` entry point runs, without uv's start-up on every one of many runs)."""
    return [sys.executable, "-m", "mailbot", *args]


def start_cli(config: Path, *args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(cli_command(*args, "--config", str(config)), cwd=config.parent,
                            env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_cli(config: Path, *args: str, env: dict[str, str],
            timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command(*args, "--config", str(config)), cwd=config.parent,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=timeout)


@dataclass(frozen=True)
class Progress:
    """What the database shows at one moment (committed data only)."""

    incoming: int = 0
    sent: int = 0
    sending: frozenset[str] = frozenset()  # Message-IDs claimed but not settled

    @property
    def total(self) -> int:
        return self.incoming + self.sent


def read_progress(db: Path) -> Progress:
    """Committed progress in the SQLite file, read-only (safe while mailbot writes: WAL)."""
    if not db.exists():
        return Progress()
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5,
                               isolation_level=None)
    except sqlite3.Error:
        return Progress()
    try:
        incoming = conn.execute("select count(*) from messages where direction = 'in'"
                                ).fetchone()[0]
        sent = conn.execute("select count(*) from outbox where state = 'sent'").fetchone()[0]
        sending = frozenset(r[0] for r in conn.execute(
            "select message_id from outbox where state = 'sending'"))
        return Progress(incoming, sent, sending)
    except sqlite3.OperationalError:  # tables not created yet
        return Progress()
    finally:
        conn.close()


def wait_for_progress(running: Callable[[], bool], db: Path, above: int,
                      timeout: float) -> bool:
    """Wait until the database shows more than *above* units of progress (True), or the
    process ends (``running()`` false) or *timeout* passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running():
        if read_progress(db).total > above:
            return True
        time.sleep(0.003)
    return False


def half_recorded(db: Path) -> list[str]:
    """What the committed state shows that a whole-message transaction never could: a new
    ticket without its one acknowledgement, a mail recorded twice, a checkpoint that is not
    the last recorded UID. Empty when all is well (read-only, while nothing runs)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        problems = []
        orphans = conn.execute(
            "select count(*) from messages m where m.direction = 'in' and m.outcome = "
            "'new_ticket' and (select count(*) from outbox o where o.ticket_id = m.ticket_id)"
            " != 1").fetchone()[0]
        if orphans:
            problems.append(f"{orphans} new tickets without exactly one acknowledgement")
        twice = conn.execute(
            "select count(*) - count(distinct case when message_id != '' then message_id "
            "else content_sha256 end) from messages where direction = 'in'").fetchone()[0]
        if twice:
            problems.append(f"{twice} mails recorded twice")
        last = conn.execute("select max(cast(source_key as integer)) from messages "
                            "where direction = 'in'").fetchone()[0]
        saved = conn.execute("select max(last_uid) from folder_state").fetchone()[0]
        if last != saved:
            problems.append(f"checkpoint {saved} but last recorded UID {last}")
        return problems
    except sqlite3.OperationalError:  # killed before the tables were created
        return []
    finally:
        conn.close()


def left_behind(dovecot: DovecotServer, db: Path) -> int:
    """How many messages at or below the saved checkpoint are still in INBOX: committed, but
    not moved yet (what a kill between the commit and the MOVE leaves)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        row = conn.execute("select max(last_uid) from folder_state").fetchone()
        conn.close()
    except sqlite3.Error:
        return 0
    if not row or not row[0]:
        return 0
    with dovecot.client() as client:
        client.select_folder("INBOX", readonly=True)
        return len([u for u in client.search(["UID", f"1:{row[0]}"]) if u <= row[0]])


def sent_message_ids(sink: SmtpSink) -> Counter[str]:
    """How many times the sink accepted each Message-ID."""
    return Counter(str(email.message_from_bytes(content, policy=email.policy.default)
                       ["Message-ID"]) for _from, _rcpt, content in sink.messages)
