"""Fault injection on real servers (issue 7: never lose, never duplicate).

* the real ``mailbot`` command SIGKILLed over and over in the middle of a 200-mail ingest
  from Dovecot, then run to completion;
* the SMTP server going down in the middle of a flush, and coming back;
* the IMAP connection cut in the middle of a FETCH, of a MOVE, or kicked by the server;
* the outbox retry schedule (jittered exponential backoff) and its claim discipline.

Every test that uses Dovecot runs whenever MAILBOT_REQUIRE_SERVERS=1 (tests/conftest.py).
The kill schedule is random but seeded: the seed is printed, and MAILBOT_FAULTS_SEED=N
replays it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import statistics
import time
from collections import Counter
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlmodel import Session, select

from mailbot import outbox as outbox_mod
from mailbot.config import OutboxConfig, load_config
from mailbot.errors import SourceError
from mailbot.poller import poll_once
from mailbot.privacy import load_keys
from mailbot.service import Service
from mailbot.sources.imap import ImapSource
from mailbot.sources.maildir import MaildirSource
from mailbot.store.db import make_engine
from mailbot.store.models import (
    FolderState,
    Message,
    OutboxEntry,
    OutboxState,
    Ticket,
    utcnow,
)
from tests.faults_launcher import Launcher
from tests.faults_proxy import CuttingProxy
from tests.faults_support import (
    PROCESSED_FOLDER,
    ROOT,
    CorpusMail,
    append_all,
    build_corpus,
    folder_count,
    folder_flags,
    half_recorded,
    left_behind,
    read_progress,
    run_cli,
    sent_message_ids,
    start_cli,
    wait_for_progress,
    write_imap_config,
)
from tests.helpers import as_message, deliver, local_config
from tests.mails import make_mail

SEEN = b"\\Seen"


# -- helpers ------------------------------------------------------------------------------------

def imap_service(tmp_path: Path, dovecot, smtp_sink, **imap) -> Service:
    """A Service (in process) on Dovecot in, the SMTP sink out, SQLite in *tmp_path*."""
    path = write_imap_config(tmp_path / "mailbot.toml", dovecot, smtp_sink,
                             batch_size=imap.pop("batch_size", 100),
                             imap_port=imap.pop("port", None))
    config = load_config(path)
    config.source.imap.password = SecretStr(dovecot.password)
    for key, value in imap.items():
        setattr(config.source.imap, key, value)
    return Service.from_config(config)


def incoming_rows(service: Service) -> list[Message]:
    with Session(service.engine) as session:
        return list(session.exec(select(Message).where(Message.direction == "in")))


def outbox_rows(service: Service) -> list[OutboxEntry]:
    with Session(service.engine) as session:
        return list(session.exec(select(OutboxEntry)))


def checkpoint(service: Service) -> int:
    with Session(service.engine) as session:
        state = session.exec(select(FolderState)).first()
        return state.last_uid if state else 0


def make_all_due(engine, claims_too: bool = False) -> None:
    """Move time forward for the outbox (instead of sleeping): every pending row is due and,
    with *claims_too*, every claim is older than any claim_timeout_seconds."""
    past = utcnow() - dt.timedelta(days=1)
    with Session(engine) as session:
        for entry in session.exec(select(OutboxEntry)):
            if entry.state == OutboxState.PENDING:
                entry.next_attempt_at = past
            if claims_too and entry.state == OutboxState.SENDING:
                entry.claimed_at = past
            session.add(entry)
        session.commit()


def assert_each_recorded_once(service: Service, corpus) -> None:
    """Exactly one incoming row per corpus mail (by Message-ID, or by bytes without one)."""
    rows = incoming_rows(service)
    assert len(rows) == len(corpus), f"{len(rows)} incoming rows for {len(corpus)} mails"
    by_key = Counter(r.message_id or r.content_sha256 for r in rows)
    for mail in corpus:
        assert by_key[mail.message_id or mail.sha256] == 1, (mail.message_id, mail.sha256)
    assert not [r for r in rows if r.outcome == "quarantined"]


def assert_all_moved(dovecot, corpus) -> None:
    """Nothing left in INBOX; each mail exactly once in the processed folder, flagged."""
    assert folder_count(dovecot, "INBOX") == 0
    assert folder_count(dovecot, PROCESSED_FOLDER) == len(corpus)
    flags = folder_flags(dovecot, PROCESSED_FOLDER)
    assert set(flags) == {m.sha256 for m in corpus}
    assert all(SEEN in f for f in flags.values())


def requests(n: int, prefix: str = "q") -> list[bytes]:
    """*n* new requests, each from its own teacher."""
    return [make_mail(f"Bonjour,\n\nQuestion {i} : le carnet ne s'ouvre plus.\n\nMerci\n",
                      message_id=f"<{prefix}{i}@ecole.example>",
                      From=f"Enseignant {i} <prof{i}@ecole.example>",
                      Subject=f"Carnet bloqué ({i})") for i in range(n)]


def corpus_of(raws: list[bytes]) -> list[CorpusMail]:
    ids = [as_message(r)["Message-ID"] for r in raws]
    return [CorpusMail(r, str(i), hashlib.sha256(r).hexdigest(), None)
            for r, i in zip(raws, ids, strict=True)]


@pytest.fixture(scope="module")
def launcher():
    """One fork server for the module's tests (tests/faults_launcher.py)."""
    server = Launcher()
    try:
        yield server
    finally:
        server.close()


class SimulatedCrash(BaseException):
    """The process dies here: nothing after this point runs (not an Exception, so no
    ``except Exception`` on the way can turn it into something else)."""


# -- a. SIGKILL in the middle of the ingest, twenty-odd times -----------------------------------

INGEST_KILLS = 22   # kills while mail is still being taken in
FLUSH_KILLS = 3     # then kills while the outbox is being sent
MAX_RUNS = 60       # a bound, should kills keep missing
# Runs after the first are forked from a preloaded interpreter (tests/faults_launcher.py)
# to save 2 s of imports each; MAILBOT_FAULTS_FORK=0 starts every one with `python -m
# mailbot` instead (about a minute longer).
FORKED_RUNS = os.environ.get("MAILBOT_FAULTS_FORK", "1") != "0"


def test_sigkill_mid_ingest_loses_nothing_and_duplicates_nothing(tmp_path, dovecot, smtp_sink,
                                                                   launcher):
    seed = int(os.environ.get("MAILBOT_FAULTS_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\nfault-injection seed: MAILBOT_FAULTS_SEED={seed}")
    rng = random.Random(seed)
    started = time.monotonic()

    corpus = build_corpus()
    append_all(dovecot, [m.raw for m in corpus])
    config = write_imap_config(tmp_path / "mailbot.toml", dovecot, smtp_sink)
    # The keys file is written at first start; made here so that a kill cannot land while
    # it is being written (that window is not what this test is about).
    load_keys(tmp_path / "mailbot.keys")
    db = tmp_path / "mailbot.db"
    env = {"MAILBOT_IMAP_PASSWORD": dovecot.password, "PYTHONPATH": str(ROOT)}

    log: list[str] = []
    ingest_kills = flush_kills = mid_ingest = unmoved_after_kill = 0
    in_doubt: Counter[str] = Counter()  # Message-ID -> kills that left it claimed (sending)
    startup, per_mail = 0.5, 0.03  # forked run start-up, one mail: refined as runs show them
    kill = None
    try:
        for run in range(MAX_RUNS):
            before = read_progress(db)
            if before.incoming < len(corpus) and ingest_kills < INGEST_KILLS:
                # Kill in the ingest: once this run has committed a mail, somewhere in the
                # next few; or (blind) anywhere from its start to its first few mails.
                mode = "blind" if run > 2 and rng.random() < 0.2 else "progress"
                above = None if mode == "blind" else before.total
            elif flush_kills < FLUSH_KILLS:
                # Kill in the flush: this run takes in what is left, then starts sending.
                mode = "flush"
                above = before.total + (len(corpus) - before.incoming)
            else:
                break
            t0 = time.monotonic()
            direct = run == 0 or not FORKED_RUNS
            if direct:  # exactly as a user starts it (the first run, or every run without fork)
                proc = start_cli(config, "poll", "--once", env=env)
                kill, running = proc.kill, lambda p=proc: p.poll() is None
            else:
                cli = launcher.start(["poll", "--once", "--config", str(config)], tmp_path, env,
                                     tmp_path / f"run{run}.out", tmp_path / f"run{run}.err")
                kill, running = cli.kill, lambda c=cli: c.poll() is None
            t_progress = None
            if above is None:
                time.sleep(rng.uniform(0, startup + 3 * per_mail))
            elif wait_for_progress(running, db, above, timeout=60):
                t_progress = time.monotonic()
                time.sleep(rng.uniform(0, min(4 * per_mail, 0.3)))
            alive = running()
            t_kill = time.monotonic()
            kill()
            if direct:
                proc.communicate(timeout=10)
                status = proc.returncode
            else:
                status = cli.wait()
            after = read_progress(db)
            if t_progress is not None and mode == "progress":
                if run > 0:
                    startup = 0.5 * startup + 0.5 * (t_progress - t0)
                done = after.incoming - before.incoming - 1
                if done > 0:
                    per_mail = 0.7 * per_mail + 0.3 * (t_kill - t_progress) / done
            killed = alive and status == -9
            if killed and mode == "flush":
                flush_kills += 1
            elif killed:
                ingest_kills += 1
                mid_ingest += before.incoming < after.incoming < len(corpus)
            in_doubt.update(after.sending - before.sending)  # claimed by this run, unsettled
            behind = left_behind(dovecot, db)
            unmoved_after_kill += behind > 0
            log.append(f"run {run:2} {mode:8} status {status} incoming {before.incoming:3}"
                       f"->{after.incoming:3} sent {before.sent:3}->{after.sent:3} "
                       f"claimed {len(after.sending)} committed-not-moved {behind}")
            assert len(after.sending - before.sending) <= 1, \
                "a killed flush leaves at most the one mail it was sending claimed"
            assert half_recorded(db) == [], log[-1]
    finally:
        if kill is not None:
            kill()  # never leave a run behind (no-op when it has ended)
        print("\n".join(log))

    # Run to completion the way a user would, then once more after claim_timeout_seconds
    # (simulated) so that a mail claimed by a killed flush is sent.
    final = run_cli(config, "poll", "--once", env=env)
    assert final.returncode == 0, final.stdout + final.stderr
    engine = make_engine(f"sqlite:///{db}")
    make_all_due(engine, claims_too=True)
    flushed = run_cli(config, "flush", env=env)
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    print(f"kills: {ingest_kills} in the ingest ({mid_ingest} after some progress and before "
          f"the end), {flush_kills} in the flush; {unmoved_after_kill} left a committed "
          f"mail unmoved; {len(in_doubt)} left a send in doubt; "
          f"{time.monotonic() - started:.1f} s")

    # The kills were real SIGKILLs and most of them hit the middle of the ingest.
    assert ingest_kills == INGEST_KILLS and flush_kills == FLUSH_KILLS, log
    assert mid_ingest >= 12, log

    # Every mail exactly once, each request one ticket, each reply on its request's ticket.
    service = Service.from_config(load_config(config))
    assert_each_recorded_once(service, corpus)
    rows = {r.message_id or r.content_sha256: r for r in incoming_rows(service)}
    row_of = [rows[m.message_id or m.sha256] for m in corpus]
    with Session(engine) as session:
        tickets = list(session.exec(select(Ticket)))
    new_requests = [i for i, m in enumerate(corpus) if not m.is_reply]
    assert len(tickets) == len(new_requests)
    assert {row_of[i].outcome for i in new_requests} == {"new_ticket"}
    assert len({row_of[i].ticket_id for i in new_requests}) == len(new_requests)
    for i, mail in enumerate(corpus):
        if mail.is_reply:
            assert row_of[i].outcome == "appended", row_of[i].outcome_reason
            assert row_of[i].ticket_id == row_of[mail.reply_to_index].ticket_id

    # One acknowledgement per ticket, all sent; the sink got each at least once, and a
    # second copy only of a mail a kill caught between its claim and the commit of its 250.
    queued = outbox_rows(service)
    assert Counter(e.ticket_id for e in queued) == {t.id: 1 for t in tickets}
    assert {e.state for e in queued} == {OutboxState.SENT}
    received = sent_message_ids(smtp_sink)
    print(f"sent twice (a kill between the 250 and our commit): "
          f"{sum(c > 1 for c in received.values())}")
    assert set(received) == {e.message_id for e in queued}
    for message_id, copies in received.items():
        assert copies <= 1 + in_doubt[message_id], (message_id, copies, in_doubt)

    # Every mail flagged and moved at the server.
    assert_all_moved(dovecot, corpus)


# -- b. the SMTP server stops in the middle of a flush ------------------------------------------

def queue_acks(tmp_path, dovecot, smtp_sink, n: int) -> Service:
    """*n* new requests through Dovecot, polled: *n* acknowledgements pending."""
    service = imap_service(tmp_path, dovecot, smtp_sink)
    append_all(dovecot, requests(n))
    assert service.poll().counts == {"new_ticket": n}
    assert [e.state for e in outbox_rows(service)] == [OutboxState.PENDING] * n
    return service


def test_smtp_server_going_down_mid_flush_delivers_each_mail_exactly_once(
        tmp_path, dovecot, smtp_sink):
    service = queue_acks(tmp_path, dovecot, smtp_sink, 12)
    smtp_sink.go_down_after(5)  # 250 for the 5th, then the port is closed

    report = service.flush()
    assert (report.sent, report.retrying, report.failed) == (5, 7, 0)
    assert len(smtp_sink.messages) == 5
    rows = outbox_rows(service)
    assert Counter(e.state for e in rows) == {OutboxState.SENT: 5, OutboxState.PENDING: 7}
    now = utcnow()
    for entry in rows:
        if entry.state == OutboxState.PENDING:
            assert entry.attempts == 1 and "Connect" in entry.last_error
            assert entry.next_attempt_at > now  # backoff, not a hot loop
    assert service.flush().sent == 0  # nothing due yet, and the server is still down

    smtp_sink.restart()  # back on the same port
    make_all_due(service.engine)
    report = service.flush()
    assert (report.sent, report.retrying, report.failed) == (7, 0, 0)

    received = sent_message_ids(smtp_sink)
    rows = outbox_rows(service)
    assert received == Counter({e.message_id: 1 for e in rows})
    assert {e.state for e in rows} == {OutboxState.SENT}
    # what a retry sends is the queued mail byte for byte: same Message-ID, same content
    sent_bytes = {str(as_message(c)["Message-ID"]): c for _f, _r, c in smtp_sink.messages}
    for entry in rows:
        assert sent_bytes[entry.message_id] == entry.raw


def test_connections_dropped_mid_transaction_are_retried_without_duplicates(
        tmp_path, dovecot, smtp_sink):
    service = queue_acks(tmp_path, dovecot, smtp_sink, 10)
    smtp_sink.disconnect_next(times=2, at="DATA")  # reset after the content, before a reply
    smtp_sink.disconnect_next(times=1, at="RCPT")
    smtp_sink.fail_next("421 4.3.2 shutting down", times=1, at="MAIL")
    report = service.flush()
    assert (report.sent, report.retrying) == (6, 4)
    make_all_due(service.engine)
    assert service.flush().sent == 4
    assert sent_message_ids(smtp_sink) == Counter({e.message_id: 1
                                                  for e in outbox_rows(service)})


def test_lost_250_is_the_one_duplicate_window_and_keeps_the_message_id(
        tmp_path, dovecot, smtp_sink):
    """Documented residual window (docs/operations.md): the server took the mail but its 250
    never reached us, so we cannot know; the mail is sent again, with the same Message-ID."""
    service = queue_acks(tmp_path, dovecot, smtp_sink, 1)
    smtp_sink.lose_reply_next()
    assert service.flush().retrying == 1
    make_all_due(service.engine)
    assert service.flush().sent == 1
    [entry] = outbox_rows(service)
    assert sent_message_ids(smtp_sink) == Counter({entry.message_id: 2})
    first, second = (c for _f, _r, c in smtp_sink.messages)
    assert first == second


def test_crash_after_the_250_resends_once_after_the_claim_timeout(tmp_path, dovecot,
                                                                    smtp_sink):
    """The process dies between the server's 250 and our commit: the row stays claimed, is
    not sent again before claim_timeout_seconds, then once, with the same Message-ID. The
    other queued mails were never claimed, so they go out at the next flush."""
    service = queue_acks(tmp_path, dovecot, smtp_sink, 3)
    real = service.transport

    class DiesAfterFirstSend:
        description = real.description
        sends = 0

        async def deliver(self, mail_from, rcpt_to, raw):
            await real.deliver(mail_from, rcpt_to, raw)
            self.sends += 1
            if self.sends == 1:
                raise SimulatedCrash

    service.transport = DiesAfterFirstSend()
    with pytest.raises(SimulatedCrash):
        service.flush()
    rows = sorted(outbox_rows(service), key=lambda e: e.id)
    assert [e.state for e in rows] == [OutboxState.SENDING, OutboxState.PENDING,
                                       OutboxState.PENDING]
    assert rows[0].claimed_at is not None

    service.transport = real
    assert service.flush().sent == 2  # the two never claimed: right away
    assert service.flush().sent == 0  # the claimed one: not before claim_timeout_seconds
    make_all_due(service.engine, claims_too=True)
    assert service.flush().sent == 1
    received = sent_message_ids(smtp_sink)
    assert received == Counter({rows[0].message_id: 2, rows[1].message_id: 1,
                                rows[2].message_id: 1})
    assert {e.state for e in outbox_rows(service)} == {OutboxState.SENT}


def test_claim_is_committed_before_the_smtp_transaction_starts(tmp_path, dovecot, smtp_sink):
    """While the server is receiving a mail, another connection to the database already sees
    that row claimed (``sending``, ``claimed_at``) and the others untouched; mark_sent is
    committed before the next row is claimed."""
    service = queue_acks(tmp_path, dovecot, smtp_sink, 3)
    real = service.transport
    seen: list[list[tuple[str, bool]]] = []

    class Watching:
        description = real.description

        async def deliver(self, mail_from, rcpt_to, raw):
            with Session(make_engine(service.config.database.url)) as other:
                seen.append([(e.state, e.claimed_at is not None)
                             for e in other.exec(select(OutboxEntry).order_by(OutboxEntry.id))])
            await real.deliver(mail_from, rcpt_to, raw)

    service.transport = Watching()
    assert service.flush().sent == 3
    claimed, pending, sent = ("sending", True), ("pending", False), ("sent", True)
    assert seen == [[claimed, pending, pending], [sent, claimed, pending],
                    [sent, sent, claimed]]


# -- c. the IMAP connection drops during a poll -------------------------------------------------

def test_connection_cut_mid_fetch_records_nothing_half_and_next_poll_recovers(
        tmp_path, dovecot, smtp_sink):
    raws = requests(45)
    corpus = corpus_of(raws)
    append_all(dovecot, raws)
    with CuttingProxy(dovecot.host, dovecot.port) as proxy:
        service = imap_service(tmp_path, dovecot, smtp_sink, batch_size=15, port=proxy.port)
        # the second FETCH (UIDs 16-30) is cut in the middle of its answer
        proxy.cut(b"FETCH", occurrence=2, after_bytes=sum(map(len, raws[15:30])) // 2)
        with pytest.raises(SourceError, match="IMAP fetch from imap:helpdesk@"):
            service.poll()
        assert proxy.cuts_done == 1

        # Exactly the first batch is recorded, each one whole: row, ticket, acknowledgement.
        rows = incoming_rows(service)
        assert sorted(int(r.source_key) for r in rows) == list(range(1, 16))
        assert checkpoint(service) == 15
        assert {r.outcome for r in rows} == {"new_ticket"}
        assert Counter(e.ticket_id for e in outbox_rows(service)) == {
            r.ticket_id: 1 for r in rows}
        assert folder_count(dovecot, "INBOX") == 30
        assert folder_count(dovecot, PROCESSED_FOLDER) == 15

        assert service.poll().counts == {"new_ticket": 30}  # through the proxy, no cut now
    assert_each_recorded_once(service, corpus)
    assert_all_moved(dovecot, corpus)
    assert service.flush().sent == 45
    assert sent_message_ids(smtp_sink) == Counter({e.message_id: 1
                                                  for e in outbox_rows(service)})


@pytest.mark.parametrize("server_got_it", [True, False], ids=["move-done", "move-lost"])
def test_connection_cut_during_the_move_after_commit(tmp_path, dovecot, smtp_sink,
                                                    server_got_it):
    """Regression: a message committed but not moved (the connection died during its MOVE)
    used to stay in INBOX for ever, below the checkpoint; and the poll went on committing
    the rest of the batch with every flag failing, leaving all of them behind."""
    raws = requests(30)
    corpus = corpus_of(raws)
    append_all(dovecot, raws)
    with CuttingProxy(dovecot.host, dovecot.port) as proxy:
        service = imap_service(tmp_path, dovecot, smtp_sink, port=proxy.port)
        proxy.cut(b"MOVE", occurrence=5, forward_command=server_got_it)
        with pytest.raises(SourceError, match="lost while flagging UID 5"):
            service.poll()
        assert checkpoint(service) == 5
        assert sorted(int(r.source_key) for r in incoming_rows(service)) == [1, 2, 3, 4, 5]
        assert folder_count(dovecot, "INBOX") == (25 if server_got_it else 26)

        assert service.poll().counts == {"new_ticket": 25}  # and UID 5 moved first
    assert_each_recorded_once(service, corpus)
    assert_all_moved(dovecot, corpus)


def test_server_kicks_us_between_commit_and_flag(tmp_path, dovecot, smtp_sink):
    """Dovecot drops the session (``doveadm kick``) right after the 8th outcome is committed:
    the poll stops with a clear error, the next one moves the 8th and takes the rest."""
    raws = requests(20)
    corpus = corpus_of(raws)
    append_all(dovecot, raws)
    service = imap_service(tmp_path, dovecot, smtp_sink)
    source = ImapSource(service.config.source.imap)
    acknowledged = []

    class KickedAtEighth:
        origin = source.origin
        fetch_new = source.fetch_new

        def acknowledge(self, mail):
            if len(acknowledged) == 7:
                dovecot.kick()
            source.acknowledge(mail)
            acknowledged.append(mail.source_key)

    with pytest.raises(SourceError, match="lost while flagging UID 8"):
        poll_once(service.engine, KickedAtEighth(), service.context)
    source.close()
    assert checkpoint(service) == 8 and len(incoming_rows(service)) == 8
    assert service.poll().counts == {"new_ticket": 12}
    assert_each_recorded_once(service, corpus)
    assert_all_moved(dovecot, corpus)


@pytest.mark.parametrize("move_to", [PROCESSED_FOLDER, None], ids=["move", "flag-only"])
def test_process_dies_between_commit_and_flag(tmp_path, dovecot, smtp_sink, move_to):
    """Regression: the outcome of UID 3 is committed (checkpoint 3), the process dies before
    flagging it. The next poll flags (and moves) it; nothing is recorded twice."""
    raws = requests(6)
    corpus = corpus_of(raws)
    append_all(dovecot, raws)
    service = imap_service(tmp_path, dovecot, smtp_sink, move_to=move_to)
    source = ImapSource(service.config.source.imap)

    class DiesBeforeFlaggingThird:
        origin = source.origin
        fetch_new = source.fetch_new

        def acknowledge(self, mail):
            if mail.source_key == "3":
                raise SimulatedCrash
            source.acknowledge(mail)

    with pytest.raises(SimulatedCrash):
        poll_once(service.engine, DiesBeforeFlaggingThird(), service.context)
    source.close()
    assert checkpoint(service) == 3

    assert service.poll().counts == {"new_ticket": 3}
    assert_each_recorded_once(service, corpus)
    if move_to:
        assert_all_moved(dovecot, corpus)
    else:
        with dovecot.client() as client:
            client.select_folder("INBOX", readonly=True)
            assert client.search(["UNSEEN"]) == []
            assert len(client.search(["ALL"])) == 6


def test_maildir_source_dies_between_commit_and_flag(tmp_path):
    """The Maildir source heals the same crash by itself: the unflagged file is offered
    again, recognised as already processed, and flagged then."""
    service = Service.from_config(local_config(tmp_path))
    inbox = service.config.source.maildir.path
    for i, raw in enumerate(requests(3)):
        deliver(inbox, raw, f"{1000 + i}.mailbot-test")
    source = MaildirSource(inbox)

    class DiesBeforeFlaggingSecond:
        origin = source.origin
        fetch_new = source.fetch_new

        def acknowledge(self, mail):
            if mail.source_key.endswith("1001.mailbot-test"):
                raise SimulatedCrash
            source.acknowledge(mail)

    with pytest.raises(SimulatedCrash):
        poll_once(service.engine, DiesBeforeFlaggingSecond(), service.context)
    assert service.poll().counts == {"already_processed": 1, "new_ticket": 1}
    assert len(incoming_rows(service)) == 3
    assert sorted(p.name for p in (inbox / "cur").iterdir()) == [
        f"{1000 + i}.mailbot-test:2,S" for i in range(3)]
    assert list((inbox / "new").iterdir()) == []


def test_flag_only_leaves_older_mail_a_person_marked_unread(tmp_path, dovecot, smtp_sink):
    """Without move_to only the message at the checkpoint is re-flagged: a person may mark
    older processed mail unread to remember it."""
    append_all(dovecot, requests(3))
    service = imap_service(tmp_path, dovecot, smtp_sink, move_to=None)
    assert service.poll().counts == {"new_ticket": 3}
    with dovecot.client() as client:
        client.select_folder("INBOX")
        client.remove_flags([1], [SEEN])
    assert service.poll().counts == {}
    with dovecot.client() as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["UNSEEN"]) == [1]


# -- the retry schedule -------------------------------------------------------------------------

def test_retry_delays_are_jittered_bounded_and_grow_with_attempts():
    config = OutboxConfig(backoff_base_seconds=60, backoff_max_seconds=3600, max_attempts=12)
    rng = random.Random(7)
    samples = {n: [outbox_mod.retry_delay(n, config, rng) for _ in range(400)]
               for n in range(1, 11)}
    for n, delays in samples.items():
        assert all(60 <= d <= 3600 for d in delays), n
        assert len(set(delays)) == len(delays), f"attempt {n}: no jitter"
        assert max(delays) - min(delays) > 0.3 * max(delays), f"attempt {n}: narrow spread"
    # before the cap, attempt n waits within [60 * 2**(n-1), 60 * 2**n]: each later attempt
    # waits at least as long as any earlier one could have
    for n in range(1, 6):
        assert 60 * 2 ** (n - 1) <= min(samples[n]) and max(samples[n]) <= 60 * 2 ** n
        if n < 5:
            assert max(samples[n]) <= min(samples[n + 1])
    # from the cap on (60 * 2**6 > 3600) the window is [max/2, max], never lower than before
    assert min(samples[5]) <= min(samples[6])
    means = [statistics.mean(samples[n]) for n in range(1, 11)]
    assert means[:6] == sorted(means[:6]) and means[5] > 10 * means[0]
    assert all(d >= 1800 for n in range(7, 11) for d in samples[n])  # at the cap: [max/2, max]
    # odd settings stay within the bounds too
    tight = OutboxConfig(backoff_base_seconds=50, backoff_max_seconds=70)
    assert all(50 <= outbox_mod.retry_delay(n, tight) <= 70 for n in (1, 2, 5, 500))
    flat = OutboxConfig(backoff_base_seconds=30, backoff_max_seconds=30)
    assert outbox_mod.retry_delay(3, flat) == 30


def test_mails_failing_together_are_retried_apart(tmp_path):
    """A hundred mails refused at the same instant (server down) come back spread over the
    window, not at the same second; never before backoff_base."""
    engine = make_engine(f"sqlite:///{tmp_path / 'o.db'}")
    config = OutboxConfig()
    now = utcnow()
    with Session(engine) as session:
        entries = [OutboxEntry(message_id=f"<m{i}@x>", mail_from="a@x", rcpt_to="b@x", raw=b"")
                   for i in range(100)]
        for entry in entries:
            outbox_mod.mark_transient_failure(session, entry, "451 later", config, now=now)
        session.commit()
        waits = [(e.next_attempt_at - now).total_seconds() for e in entries]
    assert all(60 <= w <= 120 for w in waits)
    assert len({round(w) for w in waits}) > 40


def test_forked_cli_runs_are_the_real_entry_point(tmp_path, launcher):
    """The SIGKILL test forks most of its runs from a preloaded interpreter: check that path
    gives the same answer as ``python -m mailbot`` (exit code and output)."""
    config = tmp_path / "mailbot.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n'
                      f'[privacy]\nkeys_file = "{tmp_path / "k"}"\n'
                      f'[source.maildir]\npath = "{tmp_path / "in"}"\n'
                      f'[sender.maildir]\npath = "{tmp_path / "out"}"\n')
    env = {"PYTHONPATH": str(ROOT)}
    direct = run_cli(config, "poll", "--once", env=env)
    cli = launcher.start(["poll", "--once", "--config", str(config)], tmp_path, env,
                         tmp_path / "o", tmp_path / "e")
    assert cli.wait() == direct.returncode == 0
    assert (tmp_path / "o").read_text() == direct.stdout
    bad = launcher.start(["poll", "--once", "--config", str(tmp_path / "missing.toml")],
                         tmp_path, env, tmp_path / "o2", tmp_path / "e2")
    assert bad.wait() == 2
