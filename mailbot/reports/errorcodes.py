"""The extraction stages for error codes and synchronisation.

Only well-formed codes (``SYNC-504``, see :func:`~mailbot.reports.journal.error_code`)
are counted or become the main error code: ``sync.last_error`` is free text
in practice (``"Photo de … refusée"``), and a name must not become an
incident signature. A value that is not a code is an ``invalid_field``
finding that does not repeat it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from mailbot.reports import attachments as files
from mailbot.reports.facts import Facts
from mailbot.reports.journal import error_code, read_journal, recency
from mailbot.reports.model import Finding
from mailbot.reports.numbers import aware
from mailbot.reports.plausible import plausible_last_sync
from mailbot.reports.schema import FILE
from mailbot.reports.vocab import normalise
from mailbot.reports.wording import plural


def _json_errors(facts: Facts) -> tuple[Counter[str], dict[str, tuple[dt.datetime | None, int]]]:
    """Counts and last sightings of the codes in diagnostic.json's ``errors``."""
    counts: Counter[str] = Counter()
    last_seen: dict[str, tuple[dt.datetime | None, int]] = {}
    invalid = 0
    for number, entry in enumerate(facts.diagnostic.errors if facts.diagnostic else []):
        if not entry.code or not entry.code.strip():
            continue
        code = error_code(entry.code)
        if code is None:
            invalid += 1
            continue
        counts[code] += 1
        when = aware(entry.at) if entry.at else None
        last_seen[code] = max(last_seen.get(code, (when, number)), (when, number), key=recency)
    if invalid:
        facts.problems.append(Finding(
            "invalid_field", f"{FILE} : " + plural(
                invalid, "code d'erreur non reconnu ignoré", "codes d'erreur non reconnus "
                "ignorés") + " dans errors.", f"{FILE}, errors"))
    return counts, last_seen


def read_errors(facts: Facts) -> None:
    """Error codes: from the journal when attached and readable, else diagnostic.json."""
    report = facts.report
    json_counts, json_seen = _json_errors(facts)
    data = facts.files.payload(files.JOURNAL, facts.settings.attachment_max_bytes,
                               facts.problems)
    journal = None
    if data is not None:
        journal = read_journal(data, facts.files.names[files.JOURNAL],
                               facts.settings.journal_max_bytes)
        facts.problems.extend(journal.problems)
    if journal is not None and journal.readable:
        report.sources.append(facts.files.names[files.JOURNAL])
        counts, last_seen = journal.counts, journal.last_seen
    else:
        counts, last_seen = json_counts, json_seen
    report.error_codes = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    sync = facts.diagnostic.sync if facts.diagnostic else None
    last_error = sync.last_error if sync else None
    code = error_code(last_error)
    if last_error and last_error.strip() and code is None:
        facts.problems.append(Finding(
            "invalid_field", f"{FILE} : sync.last_error ignoré (pas un code d'erreur).",
            f"{FILE}, sync.last_error"))
    if code is not None:
        report.main_error_code = code
    elif counts:
        report.main_error_code = max(counts, key=lambda c: (counts[c], recency(last_seen[c])))


def read_sync(facts: Facts) -> None:
    """Sync state, last success and hours since (against generated_at, else the mail Date)."""
    sync = facts.diagnostic.sync if facts.diagnostic else None
    if sync is None:
        return
    report = facts.report
    facts.sync_present = True
    state = normalise("sync_state", sync.state) if sync.state else None
    if sync.state and state is None:
        facts.problems.append(Finding("invalid_field", f"{FILE} : sync.state ignoré "
                                      "(valeur non reconnue).", f"{FILE}, sync.state"))
    report.sync_state = state
    report.pending_items = sync.pending_items
    report.last_sync_at = plausible_last_sync(sync.last_success_at, facts.problems)
    reference = report.generated_at or facts.mail_date
    if report.last_sync_at and reference:
        hours = (aware(reference) - aware(report.last_sync_at)).total_seconds() / 3600
        report.hours_since_sync = round(hours, 1) if hours >= 0 else None
