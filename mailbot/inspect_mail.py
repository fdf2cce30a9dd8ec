"""``mailbot inspect``: what mailbot makes of one message, without storing it.

The JSON keys are a contract other tools rely on: ``message_id``, ``from``,
``subject``, ``kind``, ``reply_text``, ``ticket_ref``, ``attachments``,
``report`` and ``defects`` are always present.
"""

from __future__ import annotations

from typing import Any

from mailbot import report_intake, threads
from mailbot.classify import OwnIdentity, classify
from mailbot.config import LimitsConfig
from mailbot.parse import parse_mail
from mailbot.privacy import Keys
from mailbot.reports import ReportSettings


def inspect_mail(raw: bytes, identity: OwnIdentity, settings: ReportSettings,
                 keys: Keys, limits: LimitsConfig | None = None) -> dict[str, Any]:
    """Describe *raw*; never raises for bad mail (the problem goes into ``defects``).

    For an e-carnet assistance report, ``report`` holds the normalised
    diagnosis; student names never appear in it (pseudonyms use *keys*).
    """
    try:
        parsed = parse_mail(raw, limits)
        verdict = classify(parsed.message, parsed.from_addr, identity)
        report = report_intake.analyse(parsed, settings, keys)
    except Exception as exc:  # a description of bad mail, never a crash
        return _empty(f"unparseable: {type(exc).__name__}: {exc}")
    scrub = report.scrub if report else (lambda text: text)
    return {
        "message_id": parsed.message_id,
        "from": parsed.from_addr or None,
        "subject": scrub(parsed.subject),
        "date": parsed.date.isoformat() if parsed.date else None,
        "kind": verdict.kind.value,
        "kind_reason": verdict.reason,
        "reply_text": scrub(parsed.reply_text),
        "ticket_ref": threads.find_ticket_ref(parsed.subject),
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size,
             "sha256": a.sha256}
            for a in parsed.attachments
        ],
        "report": report.to_json() if report else None,
        "defects": parsed.defects,
    }


def _empty(defect: str) -> dict[str, Any]:
    return {"message_id": None, "from": None, "subject": "", "date": None, "kind": "normal",
            "kind_reason": "", "reply_text": "", "ticket_ref": None, "attachments": [],
            "report": None, "defects": [defect]}
