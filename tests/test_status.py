"""`mailbot status` for monitoring, and `mailbot quarantine reprocess` (alias `replay`)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.service import Service
from mailbot.store import queries
from mailbot.store.models import OutboxEntry, PollRun
from tests.helpers import deliver, local_config, write_config
from tests.mails import make_mail

runner = CliRunner()


def status_of(service: Service) -> tuple[int, str]:
    result = runner.invoke(app, ["status", "--config", str(write_config(service))])
    return result.exit_code, result.output


def test_status_shows_today_the_outbox_and_the_loop_guard(service, inbox):
    for i in range(7):  # one sender, seven requests: the hourly limit holds back two
        deliver(inbox, make_mail(message_id=f"<q{i}@x.example>", Subject=f"Question {i}"), f"{i}")
    deliver(inbox, make_mail(message_id="<ooo@x.example>", Auto_Submitted="auto-replied"), "8")
    service.poll()
    code, output = status_of(service)
    assert code == 0, output
    assert "today: ignored 1, new_ticket 7 (processed 7, ignored 1, quarantined 0)" in output
    assert "outbox: 5 pending, 0 failed, oldest pending since " in output
    assert " (0 min ago)" in output
    assert "automatic mails held back today (loop guard): 2, of which rate limit: 2" in output
    assert "last poll: " in output and "last poll: never" not in output
    assert output.rstrip().endswith("all well")


def test_outgoing_mail_waiting_for_hours_needs_a_person(service):
    with Session(service.engine) as session:
        session.add(OutboxEntry(message_id="<old@mailbot.ecarnet.example>",
                                mail_from="support@ecarnet.example", rcpt_to="a@b.example",
                                raw=b"x", created_at=dt.datetime.now(dt.UTC)
                                - dt.timedelta(hours=3, minutes=5)))
        session.commit()
    code, output = status_of(service)
    assert code == 1
    assert "(3 h 05 ago)" in output and "needs attention:" in output
    assert "outgoing mail waiting since " in output


def test_the_last_poll_is_shown_even_when_nothing_came(service):
    assert "last poll: never" in status_of(service)[1]  # a fresh install is not a problem
    assert status_of(service)[0] == 0
    service.poll()  # an empty mailbox
    current = queries.status(service.engine, dt.datetime.now(dt.UTC))
    assert current.last_poll_at is not None
    assert dt.datetime.now(dt.UTC) - current.last_poll_at < dt.timedelta(minutes=1)
    with Session(service.engine) as session:
        [run] = session.exec(select(PollRun)).all()
        assert run.messages == 0 and run.origin.startswith("maildir:")


def test_a_service_that_stopped_polling_needs_a_person(service):
    service.poll()
    with Session(service.engine) as session:
        run = session.exec(select(PollRun)).one()
        run.last_poll_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
        session.add(run)
        session.commit()
    code, output = status_of(service)
    assert code == 1 and "no poll since " in output


def test_quarantined_mail_is_reprocessed_once_fixed_and_replay_still_works(tmp_path):
    config = local_config(tmp_path)
    service = Service.from_config(config)
    for name in ("1", "2"):
        deliver(config.source.maildir.path, make_mail("x" * 3000, message_id=f"<big{name}@x.ex>",
                                                      Subject=f"Gros {name}"), name)
    path = tmp_path / "reprocess.toml"
    base = (write_config(service).read_text()
            + f'[source.maildir]\npath = "{config.source.maildir.path}"\n'
            + f'[sender.maildir]\npath = "{config.sender.maildir.path}"\n')
    path.write_text(base + "[limits]\nmax_message_bytes = 2048\n")
    runner.invoke(app, ["poll", "--once", "--config", str(path)])
    code, output = status_of(service)
    assert code == 1 and "2 quarantined message(s)" in output
    assert "mailbot quarantine reprocess" in output

    path.write_text(base)  # the cause is fixed: the default limit again
    listing = runner.invoke(app, ["quarantine", "list", "--config", str(path)]).output
    first, second = (line.split()[0] for line in listing.splitlines() if "quarantined" in line)
    shown = runner.invoke(app, ["quarantine", "show", first, "--config", str(path)]).output
    assert f"reprocess it once fixed: mailbot quarantine reprocess {first}" in shown
    again = runner.invoke(app, ["quarantine", "reprocess", first, "--config", str(path)])
    assert again.exit_code == 0 and f"#{first}: new_ticket" in again.output
    old_name = runner.invoke(app, ["quarantine", "replay", "--all", "--config", str(path)])
    assert old_name.exit_code == 0 and f"#{second}: new_ticket" in old_name.output
    code, output = status_of(service)
    assert code == 0 and "quarantined (all time, not reprocessed): 0" in output
