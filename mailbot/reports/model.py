"""The records of a parsed e-carnet report: settings, findings, the report itself.

Plain dataclasses. A :class:`Report` never holds a student name in a field that
is printed or exported: names live only in its private :class:`Scrubber`
(excluded from ``repr`` and from :meth:`Report.to_json`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from mailbot.reports.names import Scrubber
from mailbot.reports.numbers import signature_version


@dataclass(frozen=True)
class ReportSettings:
    """Thresholds for the checks and limits for the attachments."""

    current_app_version: str = "2.2.5"
    storage_low_percent: float = 10.0  # free/total below this -> finding
    storage_low_mb: int = 500  # or free below this
    sync_stale_hours: float = 24.0
    journal_max_bytes: int = 20 * 1024 * 1024  # decompressed cap (gzip bomb guard)
    attachment_max_bytes: int = 50 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    """One thing support should know: a stable *code*, a French *message*, a place."""

    code: str
    message: str
    where: str | None = None


@dataclass(frozen=True)
class MediaTotals:
    """Sums over the rows of medias.csv."""

    photos: int = 0
    videos: int = 0
    documents: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class UserContext:
    """What the person wrote, already scrubbed of student names."""

    description: str | None = None
    actions: str | None = None
    frequency: str | None = None
    impact: str | None = None


@dataclass(frozen=True)
class StudentSummary:
    """One row of eleves.csv (+ medias.csv), identified by pseudonym only."""

    pseudonym: str | None
    status: str | None
    last_activity: str | None
    photos: int | None = None
    videos: int | None = None
    documents: int | None = None
    bytes: int | None = None


@dataclass
class Report:
    """The normalised content of one report (built by :func:`extract_report`).

    Values are in the diagnostic.json vocabulary whatever the source; sizes in Mo
    (MiB). ``students_active``/``students_inactive``/``media`` are ``None`` when the
    lists were not read (absent, or consent refused: ``lists_dropped``).
    ``error_codes`` counts the journal when one was readable, else the JSON
    ``errors``. ``sources`` lists what was read (``body``, ``diagnostic.json``,
    ``eleves.csv``…). ``students`` and the name scrubber are left out of ``repr``.
    """

    report_id: str | None = None
    format_version: int | None = None
    generated_at: dt.datetime | None = None
    app_version: str | None = None
    app_build: int | None = None
    os: str | None = None
    os_version: str | None = None
    device_model: str | None = None
    ram_total_mb: int | None = None
    ram_free_mb: int | None = None
    storage_total_mb: int | None = None
    storage_free_mb: int | None = None
    network: str | None = None
    priority: str | None = None
    recipient: str | None = None
    detail_level: str | None = None
    sensitive_data: str | None = None
    consent: bool | None = None
    user_context: UserContext = field(default_factory=UserContext)
    students_total: int | None = None
    students_active: int | None = None
    students_inactive: int | None = None
    media: MediaTotals | None = None
    error_codes: dict[str, int] = field(default_factory=dict)
    main_error_code: str | None = None
    sync_state: str | None = None
    last_sync_at: dt.datetime | None = None
    hours_since_sync: float | None = None
    pending_items: int | None = None
    students: list[StudentSummary] = field(default_factory=list, repr=False)
    lists_dropped: bool = False
    sources: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    _scrubber: Scrubber = field(default_factory=Scrubber, repr=False, compare=False)

    @property
    def signature(self) -> str | None:
        """``"<app_version>|<main_error_code>"`` to group reports of one bug, or ``None``.

        The version loses ``.0`` components beyond the third (``2.2.5.0`` -> ``2.2.5``)
        and the code is upper case, so that one bug makes one signature.
        """
        if not self.main_error_code:
            return None
        version = signature_version(self.app_version or "")
        return f"{version}|{self.main_error_code.strip().upper()}"

    def scrub(self, text: str) -> str:
        """*text* with every student name of eleves.csv replaced by ``[pseudonym]``."""
        return self._scrubber.scrub(text)

    def name_digests(self, key: bytes) -> dict[str, str]:
        """``{hex HMAC-SHA256(key, folded form): label}`` for every name form known.

        The label is what :meth:`scrub` writes (``"[ELV-7K2Q9M]"``). The table holds
        no name and can be stored; :func:`~mailbot.reports.scrub_with_digests`
        scrubs later messages with it and the same *key*.
        """
        return self._scrubber.digests(key)

    def finding_codes(self) -> list[str]:
        """The codes of the findings, in order (convenience for rules and tests)."""
        return [f.code for f in self.findings]

    def to_json(self) -> dict[str, Any]:
        """The ``report`` object of ``mailbot inspect --json``: JSON-ready, no names."""
        return {
            "report_id": self.report_id.lower() if self.report_id else self.report_id,
            "format_version": self.format_version,
            "generated_at": _iso(self.generated_at),
            "app_version": self.app_version,
            "app_build": self.app_build,
            "os": self.os,
            "os_version": self.os_version,
            "device_model": self.device_model,
            "ram_total_mb": self.ram_total_mb,
            "ram_free_mb": self.ram_free_mb,
            "storage_total_mb": self.storage_total_mb,
            "storage_free_mb": self.storage_free_mb,
            "network": self.network,
            "priority": self.priority,
            "recipient": self.recipient,
            "detail_level": self.detail_level,
            "sensitive_data": self.sensitive_data,
            "consent": self.consent,
            "user_context": asdict(self.user_context),
            "students_total": self.students_total,
            "students_active": self.students_active,
            "students_inactive": self.students_inactive,
            "media": asdict(self.media) if self.media is not None else None,
            "error_codes": dict(self.error_codes),
            "main_error_code": self.main_error_code,
            "signature": self.signature,
            "sync_state": self.sync_state,
            "last_sync_at": _iso(self.last_sync_at),
            "hours_since_sync": self.hours_since_sync,
            "pending_items": self.pending_items,
            "students": [dict(vars(s)) for s in self.students],  # asdict() is 10x slower
            "lists_dropped": self.lists_dropped,
            "sources": list(self.sources),
            "findings": [asdict(f) for f in self.findings],
        }


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None
