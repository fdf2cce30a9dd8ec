"""The ``mailbot`` command (Typer). Thin: parse options, call one function, print.

Exit codes: 0 success, 1 the operation failed (mailbox unreachable, ticket
not found), 2 bad usage or configuration.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from mailbot import views
from mailbot.cli_db import db_app
from mailbot.cli_faq import faq_app
from mailbot.cli_rules import rules_app
from mailbot.config import Config, load_config
from mailbot.errors import MailbotError
from mailbot.store import queries

app = typer.Typer(help="mailbot: the e-carnet support mailbox, as tickets.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
tickets_app = typer.Typer(help="Look at tickets.", no_args_is_help=True)
messages_app = typer.Typer(help="Look at incoming messages and their outcome.",
                           no_args_is_help=True)
app.add_typer(tickets_app, name="tickets")
incidents_app = typer.Typer(help="Recurring problems across reports.", no_args_is_help=True)
app.add_typer(incidents_app, name="incidents")
app.add_typer(rules_app, name="rules")
app.add_typer(faq_app, name="faq")
app.add_typer(db_app, name="db")
outbox_app = typer.Typer(help="Outgoing mail.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
quarantine_app = typer.Typer(help="Messages that failed a stage.", no_args_is_help=True)
app.add_typer(messages_app, name="messages")
app.add_typer(quarantine_app, name="quarantine")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML config file (default: $MAILBOT_CONFIG, "
                 "else built-in defaults: ./mailbot.db and ./maildir/).",
                 exists=True, dir_okay=False),
]


def _config(path: Path | None) -> Config:
    if path is None and os.environ.get("MAILBOT_CONFIG"):
        path = Path(os.environ["MAILBOT_CONFIG"])
    try:
        config = load_config(path)
    except (ValidationError, OSError, ValueError) as exc:
        typer.echo(f"configuration error in {path}: {exc}", err=True)
        raise typer.Exit(2) from exc
    logging.basicConfig(level=config.logging.level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler says "Running job …" at INFO on every poll: keep its warnings only.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING,
                                                  logging.getLogger().level))
    return config


def _engine(config: Config):  # -> Engine; read-only commands need no rules, FAQ or keys
    from mailbot.store.db import make_engine

    return make_engine(config.database.url)


def _service(config: Config):  # -> Service; imported lazily to keep `--help` fast
    from mailbot.faq import FaqError
    from mailbot.rules import RuleError
    from mailbot.service import Service

    try:
        return Service.from_config(config)
    except (RuleError, FaqError) as exc:
        typer.echo(f"cannot start: fix these files first:\n{exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def run(config: ConfigOption = None) -> None:
    """Poll the mailbox and send answers on a schedule, until Ctrl-C or SIGTERM."""
    from mailbot.scheduler import run_forever

    run_forever(_service(_config(config)))


@app.command()
def poll(once: Annotated[bool, typer.Option("--once", help="Poll and flush once, then exit."
                                            )] = False,
         config: ConfigOption = None) -> None:
    """Process new mail now (with --once), or keep polling like `mailbot run`."""
    if not once:
        run(config)
        return
    service = _service(_config(config))
    try:
        report = service.poll()
    except MailbotError as exc:
        typer.echo(f"poll failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    flushed = service.flush()
    typer.echo(views.poll_summary(report, flushed))


@app.command()
def flush(config: ConfigOption = None) -> None:
    """Send what is due in the outbox now."""
    flushed = _service(_config(config)).flush()
    typer.echo(f"sent {flushed.sent}, retrying {flushed.retrying}, failed {flushed.failed}")


@app.command()
def sweep(now: Annotated[str | None, typer.Option(
              help="Act as if it were this time (ISO 8601, e.g. 2026-12-01T09:00+01:00); "
                   "for tests and catching up.")] = None,
          config: ConfigOption = None) -> None:
    """Apply the lifecycle timers and SLA escalations now (`mailbot run` does it on a schedule)."""
    at = None
    if now is not None:
        try:
            at = dt.datetime.fromisoformat(now)
        except ValueError as exc:
            typer.echo(f"--now: not an ISO 8601 time: {now!r}", err=True)
            raise typer.Exit(2) from exc
        at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    service = _service(_config(config))
    report = service.sweep(at)
    flushed = service.flush()
    typer.echo(f"resolved {len(report.resolved)}, closed {len(report.closed)}, escalated "
               f"{len(report.escalated)}; outbox: sent {flushed.sent}, retrying "
               f"{flushed.retrying}, failed {flushed.failed}")


@app.command()
def demo(directory: Annotated[Path, typer.Option("--dir", help="Where to put the demo.")
                              ] = Path("mailbot-demo")) -> None:
    """Run the whole loop on sample mail, no server needed (safe to run twice)."""
    from mailbot.demo import run_demo

    logging.basicConfig(level="WARNING", format="%(levelname)s %(name)s: %(message)s")
    typer.echo(run_demo(directory))


@app.command("inspect")
def inspect_cmd(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
                as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
                config: ConfigOption = None) -> None:
    """Show what mailbot makes of one .eml file, without storing anything."""
    from mailbot.inspect_mail import inspect_mail
    from mailbot.intake import own_identity
    from mailbot.privacy import load_keys
    from mailbot.reports import ReportSettings

    cfg = _config(config)
    # Existing keys give the same pseudonyms as the service; none are created here.
    keys = load_keys(cfg.privacy.keys_file, create=False)
    result = inspect_mail(file.read_bytes(), own_identity(cfg.identity),
                          ReportSettings(**cfg.reports.model_dump()), keys, cfg.limits)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json
               else views.inspect_text(result))


@tickets_app.command("list")
def tickets_list(status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
                 config: ConfigOption = None) -> None:
    """Tickets, most recently updated first."""
    engine = _engine(_config(config))
    typer.echo(views.tickets_table(queries.list_tickets(engine, status)))


@tickets_app.command("show")
def tickets_show(ref: str, actor: Annotated[str | None, typer.Option(
                     "--as", help="Who is looking (default: $MAILBOT_ACTOR, else the "
                     "system user); written to the access log.")] = None,
                 config: ConfigOption = None) -> None:
    """One ticket with its diagnosis, messages, status history and outgoing mail."""
    engine = _engine(_config(config))
    view = queries.ticket_view(engine, ref)
    if view is None:
        typer.echo(f"no ticket {ref}", err=True)
        raise typer.Exit(1)
    queries.record_access(engine, actor or os.environ.get("MAILBOT_ACTOR") or getpass.getuser(),
                          "tickets show", view.ticket.id)
    typer.echo(views.ticket_detail(view))


@incidents_app.command("list")
def incidents_list(config: ConfigOption = None) -> None:
    """Incidents (reports sharing app version + main error code), most recent first."""
    engine = _engine(_config(config))
    typer.echo(views.incidents_table(queries.list_incidents(engine)))


@messages_app.command("list")
def messages_list(outcome: Annotated[str | None, typer.Option(
                      help="new_ticket, appended, ignored or quarantined.")] = None,
                  config: ConfigOption = None) -> None:
    """Incoming messages with what became of them and why."""
    engine = _engine(_config(config))
    typer.echo(views.messages_table(queries.list_messages(engine, outcome)))


@quarantine_app.command("list")
def quarantine_list(config: ConfigOption = None) -> None:
    """Quarantined messages with the stage and error that stopped them."""
    engine = _engine(_config(config))
    typer.echo(views.messages_table(queries.list_messages(engine, "quarantined")))


@quarantine_app.command("show")
def quarantine_show(row_id: Annotated[int, typer.Argument(help="Number from `quarantine list`.")],
                    config: ConfigOption = None) -> None:
    """The stage, error and traceback of one quarantined message (not its content)."""
    row = queries.quarantined(_engine(_config(config)), row_id)
    if row is None:
        typer.echo(f"no quarantined message #{row_id}", err=True)
        raise typer.Exit(1)
    typer.echo(views.quarantine_detail(row))


@quarantine_app.command("reprocess")
def quarantine_reprocess(
        row_ids: Annotated[list[int] | None, typer.Argument(
            help="Numbers from `quarantine list`.")] = None,
        replay_all: Annotated[bool, typer.Option("--all", help="Every quarantined message.")
                              ] = False,
        config: ConfigOption = None) -> None:
    """Process quarantined messages again, once the cause is fixed; those still failing stay."""
    from mailbot.poller import replay_quarantined

    service = _service(_config(config))
    if replay_all:
        row_ids = [m.id for m in queries.list_messages(service.engine, "quarantined", limit=10**6)
                   if m.id is not None]
    if not row_ids:
        typer.echo("nothing to replay: give message numbers or --all", err=True)
        raise typer.Exit(1)
    failed = 0
    for row_id in row_ids:
        try:
            result = replay_quarantined(service.engine, row_id, service.context)
        except LookupError as exc:
            typer.echo(str(exc), err=True)
            failed += 1
            continue
        except Exception as exc:  # still failing: say why, keep the entry
            typer.echo(f"#{row_id} still failing, kept in quarantine: "
                       f"{type(exc).__name__}: {exc}", err=True)
            failed += 1
            continue
        outcome = result.outcome.value if result.outcome else "already processed"
        typer.echo(f"#{row_id}: {outcome} ({result.reason})"
                   + (f" [{result.ticket_ref}]" if result.ticket_ref else ""))
    if failed:
        raise typer.Exit(1)


# `replay` was the first name of `reprocess`: kept for scripts that use it.
quarantine_app.command("replay", help="Same as `quarantine reprocess`.")(quarantine_reprocess)


@outbox_app.command("list")
def outbox_list(state: Annotated[str | None, typer.Option(
                    help="pending, sending, sent or failed.")] = None,
                config: ConfigOption = None) -> None:
    """Outgoing mail with its delivery state and last error."""
    engine = _engine(_config(config))
    typer.echo(views.outbox_table(queries.list_outbox(engine, state)))


@outbox_app.command("retry")
def outbox_retry(entry_ids: Annotated[list[int] | None, typer.Argument(
                     help="Numbers from `outbox list`; all failed mail when omitted.")] = None,
                 config: ConfigOption = None) -> None:
    """Queue failed mail again (after fixing the cause), with fresh attempts."""
    from sqlmodel import Session

    from mailbot import outbox

    with Session(_engine(_config(config))) as session:
        count = outbox.requeue_failed(session, entry_ids or None)
    typer.echo(f"{count} message(s) queued again")


@faq_app.command("draft")
def faq_draft(ref: str, kb: Annotated[Path | None, typer.Option(
                  help="Knowledge base folder (default: [faq] dir, else rules/faq).")] = None,
              config: ConfigOption = None) -> None:
    """Turn a resolved ticket's answer into a draft article (rules/faq/drafts/) to review."""
    from mailbot.faq import default_faq_dir, draft_article

    cfg = _config(config)
    engine = _engine(cfg)
    view = queries.ticket_view(engine, ref)
    if view is None:
        typer.echo(f"no ticket {ref}", err=True)
        raise typer.Exit(1)
    question, answer = queries.question_and_answer(view)
    if not answer:
        typer.echo(f"{view.ticket.ref} has no answer from the support team yet", err=True)
        raise typer.Exit(1)
    path = draft_article(view.ticket.subject, question, answer,
                         kb or cfg.faq.dir or default_faq_dir(), lang=view.ticket.language)
    typer.echo(f"draft written to {path}: review it, then move it to the knowledge base")


@faq_app.command("stats")
def faq_stats(config: ConfigOption = None) -> None:
    """Which articles are suggested most, and how often their tickets got resolved."""
    engine = _engine(_config(config))
    typer.echo(views.faq_stats_table(queries.faq_stats(engine)))


@app.command("status")
def status_cmd(config: ConfigOption = None) -> None:
    """The service at a glance; exit 1 when something needs a person (for monitoring)."""
    now = dt.datetime.now(dt.UTC)
    settings = _config(config)
    current = queries.status(_engine(settings), now)
    # A few missed polls are an outage worth a look, not one slow poll.
    poll_too_old = dt.timedelta(seconds=max(900, 5 * settings.schedule.poll_interval_seconds))
    problems = current.problems(now, dt.timedelta(hours=1), poll_too_old)
    typer.echo(views.status_text(current, problems, now))
    if problems:
        raise typer.Exit(1)
