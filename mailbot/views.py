"""Plain-text rendering of CLI output (tables and ticket details)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from mailbot.delivery import FlushReport
from mailbot.poller import PollReport
from mailbot.report_views import report_block
from mailbot.store.models import Message, OutboxEntry, Ticket, TicketEvent
from mailbot.store.queries import FaqStat, IncidentView, Status, TicketView


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], max_width: int = 48) -> str:
    """A left-aligned text table; cells longer than *max_width* are cut with '…'."""
    cells = [[_cut(str(c), max_width) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    line = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))  # noqa: E731
    out = [line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)]
    return "\n".join(s.rstrip() for s in out)


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def tickets_table(tickets: Sequence[Ticket]) -> str:
    """One line per ticket."""
    if not tickets:
        return "no tickets"
    return table(["ref", "status", "priority", "team", "assignee", "requester", "subject",
                  "updated (UTC)"],
                 [[t.ref, t.status, t.priority, t.category or "-", t.assignee or "-",
                   t.requester, t.subject, _when(t.updated_at)] for t in tickets],
                 max_width=40)


def messages_table(messages: Sequence[Message]) -> str:
    """One line per incoming message with its outcome and reason."""
    if not messages:
        return "no messages"
    return table(["#", "outcome", "from", "subject", "reason"],
                 [[m.id, m.outcome, m.from_addr, m.subject, m.outcome_reason]
                  for m in messages])


def ticket_detail(view: TicketView) -> str:
    """A ticket, its history and outgoing mail, for `mailbot tickets show`."""
    t = view.ticket
    lines = [f"{t.ref}  [{t.status}]  {t.subject}",
             f"requester: {t.requester}" + (f" (reply to {t.reply_to})" if t.reply_to else ""),
             f"priority: {t.priority}   team: {t.category or '-'}   language: {t.language}"
             f"   opened: {_when(t.created_at)} UTC",
             f"assignee: {t.assignee or '-'}   participants: {', '.join(t.participants) or '-'}",
             f"tags: {', '.join(t.tags) or '-'}"]
    if t.merged_into:
        lines.append(f"merged into {t.merged_into}")
    lines += [f"rating: {r.score}/5" + (f"  « {r.comment} »" if r.comment else "")
              for r in view.ratings]
    lines.append("")
    for report in view.reports:
        lines += [report_block(report.data), ""]
    lines += ["History (UTC):"]
    lines += [history_line(e) for e in view.events]
    lines += ["", "Messages:"]
    for m in view.messages:
        arrow = "<-" if m.direction == "in" else "->"
        lines.append(f"  {arrow} #{m.id} {_when(m.sent_at or m.received_at)}  {m.from_addr}  "
                     f"{m.subject}" + (f"  [{m.kind}]" if m.direction == "out" else ""))
        if m.rule_hits:
            lines.append(f"     rules: {', '.join(m.rule_hits)}")
        lines += [f"     {row}" for row in m.body_text.splitlines()[:40]] + [""]
    lines += ["Outgoing mail:"]
    lines += [f"  {o.message_id} to {o.rcpt_to}: {o.state} (attempts {o.attempts})"
              + (f" - {o.last_error}" if o.last_error else "") for o in view.outbox]
    return "\n".join(lines)


def history_line(event: TicketEvent) -> str:
    """One history entry: when, what, who, and the message that caused it."""
    what = (f"{event.old_status or '-'} -> {event.new_status}"
            + (f" ({event.detail})" if event.detail and event.detail != "ticket opened" else "")
            if event.kind == "status" else event.detail)
    source = f" (message #{event.message_row_id})" if event.message_row_id else ""
    return f"  {_when(event.at)}  {event.kind}: {what}  by {event.actor}{source}"


def poll_summary(report: PollReport, flushed: FlushReport) -> str:
    """What one `poll --once` did."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "nothing new"
    return (f"processed: {counts}\n"
            f"outbox: sent {flushed.sent}, retrying {flushed.retrying}, failed {flushed.failed}")


def inspect_text(result: dict[str, Any]) -> str:
    """Human-readable `mailbot inspect` output."""
    lines = [f"{key}: {result[key]}" for key in
             ("message_id", "from", "subject", "date", "kind", "kind_reason", "ticket_ref")]
    lines += [f"attachment: {a['filename']} ({a['content_type']}, {a['size']} bytes)"
              for a in result["attachments"]]
    lines += [f"defect: {d}" for d in result["defects"]]
    if result["report"]:
        lines += ["", report_block(result["report"])]
    return "\n".join([*lines, "", "reply_text:", result["reply_text"]])


def incidents_table(incidents: Sequence[IncidentView]) -> str:
    """One line per incident signature."""
    if not incidents:
        return "no incidents"
    return table(["signature", "app", "error", "tickets", "schools", "first seen", "last seen"],
                 [[v.incident.signature, v.incident.app_version, v.incident.error_code,
                   v.tickets, v.schools, _when(v.incident.first_seen),
                   _when(v.incident.last_seen)] for v in incidents])


def outbox_table(entries: Sequence[OutboxEntry]) -> str:
    """One line per outgoing message."""
    if not entries:
        return "no outgoing mail"
    return table(["#", "state", "to", "attempts", "next attempt", "last error"],
                 [[e.id, e.state, e.rcpt_to, e.attempts,
                   _when(e.next_attempt_at) if e.state == "pending" else "", e.last_error]
                  for e in entries])


def faq_stats_table(stats: Sequence[FaqStat]) -> str:
    """One line per suggested article."""
    if not stats:
        return "no FAQ suggestion yet"
    return table(["article", "suggested on", "of which resolved"],
                 [[s.article_id, s.suggested, s.resolved] for s in stats])


def status_text(status: Status, problems: Sequence[str], now: dt.datetime | None = None) -> str:
    """`mailbot status`: counts, then what needs a person."""
    now = now or dt.datetime.now(dt.UTC)
    today = ", ".join(f"{k} {v}" for k, v in sorted(status.today.items())) or "nothing"
    age = status.pending_age(now)
    lines = [f"last message received: {_when(status.last_message_at) or 'never'} UTC",
             "last poll: "
             + (f"{_when(status.last_poll_at)} UTC" if status.last_poll_at else "never"),
             f"today: {today} (processed {status.processed_today}, ignored "
             f"{status.today.get('ignored', 0)}, quarantined "
             f"{status.today.get('quarantined', 0)})",
             f"quarantined (all time, not reprocessed): {status.quarantined_total}",
             f"outbox: {status.outbox_pending} pending, {status.outbox_failed} failed"
             + (f", oldest pending since {_when(status.oldest_pending)} UTC"
                f" ({_duration(age)} ago)" if status.oldest_pending and age is not None else ""),
             f"automatic mails held back today (loop guard): {status.suppressed_today}, "
             f"of which rate limit: {status.rate_limited_today}"]
    lines += ["", "needs attention:", *(f"  - {p}" for p in problems)] if problems else [
        "", "all well"]
    return "\n".join(lines)


def _duration(delta: dt.timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d}" if hours < 48 else f"{hours // 24} days"


def quarantine_detail(message: Message) -> str:
    """`mailbot quarantine show`: where it came from and why it stopped (no content:
    the raw mail is sealed and may hold personal data)."""
    return "\n".join([
        f"#{message.id} from {message.origin} ({message.source_key}), "
        f"received {_when(message.received_at)} UTC",
        f"Message-ID: {message.message_id or '-'}   From: {message.from_addr or '-'}",
        f"reason: {message.outcome_reason}", "", message.outcome_detail or "(no traceback)",
        "", f"reprocess it once fixed: mailbot quarantine reprocess {message.id}"])
