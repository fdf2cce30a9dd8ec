"""Realistic e-carnet report mails for tests and benchmarks: ``build_report_mail(**options)``.

Every variant of ``shared/specs/ecarnet-report.md`` is one keyword. The student
names are invented (:mod:`tests.reportnames`, re-exported here);
:data:`STUDENT_NAME_WORDS` lists every word used in a name so tests can check
that none leaks.
"""

from __future__ import annotations

import copy
import email.policy
import gzip
import json
from email.message import EmailMessage
from typing import Any

from tests.reportbody import body_block, french_size
from tests.reportbombs import (
    BOMB_BYTES,
    gzip_bomb,
    huge_line_csv,
    many_lines_csv,
    newline_bomb,
)
from tests.reportnames import (
    CLASS,
    FIRST_NAMES,
    LAST_NAMES,
    MALFORMED_NAMES,
    MALFORMED_ROW,
    STUDENT_NAME_WORDS,
    class_list,
    eleves_csv,
    media_counts,
    medias_csv,
    pseudonymise,
    status,
)

__all__ = [
    "ACTIONS", "BOMB_BYTES", "CLASS", "DESCRIPTION", "DIRECTOR", "FIRST_NAMES", "FREQUENCY",
    "GENERATED_AT", "IMPACT", "JOURNAL_COUNTS", "JOURNAL_LINES", "LAST_NAMES", "MAIL_DATE",
    "MALFORMED_NAMES", "MALFORMED_ROW", "REPORT_ID", "STUDENT_NAME_WORDS", "SUBJECT", "SUPPORT",
    "TEACHER", "body_block", "build_report_mail", "class_list", "diagnostic", "eleves_csv",
    "french_size", "gzip_bomb", "huge_line_csv", "journal_text", "many_lines_csv",
    "media_counts", "medias_csv", "newline_bomb", "pseudonymise", "status",
]

TEACHER = "Claire Dubois <claire.dubois@ecole-les-tilleuls.example>"
DIRECTOR = "Marc Lemaire <direction@ecole-les-tilleuls.example>"
SUPPORT = "Assistance e-carnet <assistance@ecarnet.example>"
REPORT_ID = "0b6f0b2e-8a55-4a8e-9f0c-6d2f3f1c9a10"
GENERATED_AT = "2025-04-06T09:15:02+02:00"
MAIL_DATE = "Sun, 06 Apr 2025 09:15:30 +0200"
SUBJECT = "[e-carnet] Demande d'assistance : Synchronisation bloquée"

DESCRIPTION = ("La synchronisation reste bloquée à 45 % depuis hier soir. Les photos de "
               "Léa Fontaine et de Moussa ne remontent plus.")
ACTIONS = ("Ajout de 30 photos dans le portfolio de la classe de CE2, dont celles de\n"
           "LEFÈVRE Chloé.")
FREQUENCY = "à chaque synchronisation"
IMPACT = "bloquant"
JOURNAL_LINES = [
    ("2025-04-06T07:58:02+02:00", "INFO", "SYNC-100", "Synchronisation démarrée"),
    ("2025-04-06T08:01:13+02:00", "ERROR", "AUTH-401", "Jeton expiré, renouvellement"),
    ("2025-04-06T08:15:40+02:00", "WARN", "MEDIA-413", "Photo de Léa Fontaine trop lourde"),
    ("2025-04-06T08:40:00+02:00", "ERROR", "SYNC-504", "Délai dépassé (média 12)"),
    ("2025-04-06T08:45:00+02:00", "ERROR", "SYNC-504", "Délai dépassé (média 13)"),
    ("2025-04-06T08:50:00+02:00", "ERROR", "SYNC-504", "Délai dépassé (média 14)"),
    ("2025-04-06T08:58:10+02:00", "ERROR", "SYNC-504", "Délai dépassé (média 17)"),
    ("2025-04-06T09:02:10+02:00", "WARN", "MEDIA-413", "Vidéo de Théo Garnier trop lourde"),
    ("2025-04-06T09:10:00+02:00", "ERROR", "SYNC-504", "Délai dépassé (média 18)"),
]
JOURNAL_COUNTS = {"SYNC-504": 5, "MEDIA-413": 2, "AUTH-401": 1}

def diagnostic(*, n_students: int = 6, app_version: str = "2.2.5", priority: str = "urgente",
               detail: str = "complet", sensitive: str = "exclues", consent: bool = True,
               network: str = "wifi", storage_free_mb: int = 20480,
               last_success_at: str | None = "2025-04-05T18:02:00+02:00",
               description: str = DESCRIPTION, os: tuple[str, str] = ("iPadOS", "17.4"),
               ) -> dict[str, Any]:
    """The diagnostic.json document of a default report (a fresh dict)."""
    build = int(app_version.replace(".", "")) * 10
    errors = [{"at": at, "code": code, "message": message, "screen": "portfolio"}
              for at, level, code, message in JOURNAL_LINES[-3:]]
    return {
        "format": 1, "report_id": REPORT_ID, "generated_at": GENERATED_AT,
        "app": {"version": app_version, "build": build, "locale": "fr-FR"},
        "device": {"os": os[0], "os_version": os[1], "model": "iPad (9th generation)",
                   "ram_total_mb": 3072, "ram_free_mb": 412,
                   "storage_total_mb": 65536, "storage_free_mb": storage_free_mb},
        "network": {"state": network, "latency_ms": 84},
        "request": {"priority": priority, "recipient": "technique", "detail_level": detail,
                    "sensitive_data": sensitive, "consent": consent},
        "user_context": {"description": description, "actions": ACTIONS,
                         "frequency": FREQUENCY, "impact": IMPACT},
        "errors": errors,
        "sync": {"state": "bloquee", "last_success_at": last_success_at,
                 "pending_items": 31, "last_error": "SYNC-504"},
        "usage": {"students": n_students, "portfolios": n_students, "sessions_7d": 12},
        "performance": {"cold_start_ms": 2300, "avg_frame_ms": 21},
        "beta_flags": ["nouvelle-galerie"],  # an unknown key: kept and ignored
    }


def journal_text() -> str:
    """The default 24-hour journal."""
    return "".join(f"{at} {level} {code} {message}\n" for at, level, code, message in
                   JOURNAL_LINES)


def _encode(text: str, *, bom: bool, cp1252: bool, crlf: bool) -> bytes:
    if crlf:
        text = text.replace("\n", "\r\n")
    data = text.encode("cp1252" if cp1252 else "utf-8")
    return b"\xef\xbb\xbf" + data if bom and not cp1252 else data


def _deep_update(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value


def build_report_mail(**options: Any) -> bytes:
    """An e-carnet report mail as RFC 5322 bytes. Options (all optional):

    ``n_students`` (6), ``english``, ``bom``, ``cp1252``, ``crlf`` (CSV encodings),
    ``detail`` ("complet"/"essentiel"), ``sensitive_excluded`` (True), ``consent`` (True),
    ``journal`` ("plain", "gzip", "bomb", "newline_bomb" or None; ``gzip_log``/``gzip_bomb``
    shortcuts),
    ``malformed_json``, ``malformed_csv``, ``orphan_media``, ``missing_media_rows`` (int),
    ``stale_sync``, ``never_synced``, ``app_version``, ``disagree`` (body priority and network
    differ from the JSON), ``storage_full``, ``report_id_header`` (True), ``format_header``
    ("1" or None), ``forwarded`` (None, "inline": body only with "> " quotes, "attached":
    the report as message/rfc822), ``doc_changes`` (deep-merged into the app's data: body and
    diagnostic.json), ``json_changes`` (into diagnostic.json only, as a hand edit),
    ``diagnostic_bytes``/``eleves_bytes``/``medias_bytes``/``journal_bytes`` (raw overrides),
    ``attach_lists`` (default: unless consent refused), ``description``, ``subject``.
    """
    o = {"n_students": 6, "sensitive_excluded": False, "consent": True, "detail": "complet",
         "journal": "plain", "report_id_header": True, "format_header": "1",
         "app_version": "2.2.5", "description": DESCRIPTION, **options}
    if o.get("gzip_log"):
        o["journal"] = "gzip"
    if o.get("gzip_bomb"):
        o["journal"] = "bomb"
    rows = class_list(o["n_students"])
    doc = diagnostic(
        n_students=o["n_students"], app_version=o["app_version"], detail=o["detail"],
        sensitive="exclues" if o["sensitive_excluded"] else "incluses", consent=o["consent"],
        storage_free_mb=1228 if o.get("storage_full") else 20480,
        last_success_at=None if o.get("never_synced") else
        "2025-04-03T18:02:00+02:00" if o.get("stale_sync") else "2025-04-05T18:02:00+02:00",
        description=o["description"], os=("Android", "14") if o.get("english") else
        ("iPadOS", "17.4"))
    if o.get("never_synced"):
        doc["sync"]["state"] = "jamais"
    _deep_update(doc, o.get("doc_changes") or {})
    body_doc = copy.deepcopy(doc)
    if o.get("disagree"):
        body_doc["request"]["priority"] = "normale"
        body_doc["network"]["state"] = "cellulaire"
    _deep_update(doc, o.get("json_changes") or {})
    report = _report_message(o, rows, doc, body_doc)
    if o.get("forwarded") == "inline":
        return _forward_inline(report, body_doc, o)
    if o.get("forwarded") == "attached":
        outer = _envelope(DIRECTOR, "TR: " + str(report["Subject"]))
        outer.set_content("Bonjour,\n\nJe vous transfère la demande de Claire.\n\nMarc\n")
        outer.add_attachment(report)
        return outer.as_bytes()
    return report.as_bytes()


def _envelope(sender: str, subject: str) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Date"] = MAIL_DATE
    message["Message-ID"] = "<rapport-7f3a@ecole-les-tilleuls.example>"
    return message


def _report_message(o: dict[str, Any], rows: list[tuple[str, str, str]],
                    doc: dict[str, Any], body_doc: dict[str, Any]) -> EmailMessage:
    message = _envelope(TEACHER, o.get("subject") or SUBJECT)
    if o["format_header"] is not None:
        message["X-ECarnet-Report"] = o["format_header"]
    message["X-ECarnet-App-Version"] = o["app_version"]
    if o["report_id_header"]:
        message["X-ECarnet-Report-Id"] = REPORT_ID
    message.set_content(body_block(body_doc, english=bool(o.get("english"))))
    encoding = {"bom": bool(o.get("bom")), "cp1252": bool(o.get("cp1252")),
                "crlf": bool(o.get("crlf"))}
    diagnostic_bytes = o.get("diagnostic_bytes") or _diagnostic_bytes(doc, o)
    message.add_attachment(diagnostic_bytes, maintype="application", subtype="json",
                           filename="diagnostic.json")
    attach_lists = o.get("attach_lists", o["consent"]) and o["detail"] == "complet"
    if attach_lists:
        eleves = eleves_csv(rows, sensitive_excluded=o["sensitive_excluded"])
        if o.get("malformed_csv"):
            lines = eleves.split("\n")
            lines.insert(4, MALFORMED_ROW)
            eleves = "\n".join(lines)
        medias = medias_csv(rows, skip_last=o.get("missing_media_rows", 0),
                            orphan=bool(o.get("orphan_media")))
        charset = "windows-1252" if o.get("cp1252") else "utf-8"
        for name, text, raw in (("eleves.csv", eleves, o.get("eleves_bytes")),
                                ("medias.csv", medias, o.get("medias_bytes"))):
            message.add_attachment(raw if raw is not None else _encode(text, **encoding),
                                   maintype="text", subtype="csv", filename=name,
                                   params={"charset": charset})
    journal = o["journal"] if o["detail"] == "complet" else None
    if o.get("journal_bytes") is not None:
        message.add_attachment(o["journal_bytes"], maintype="application",
                               subtype="octet-stream", filename="journal-24h.log")
    elif journal == "plain":
        message.add_attachment(journal_text().encode(), maintype="text", subtype="plain",
                               filename="journal-24h.log")
    elif journal in ("gzip", "bomb", "newline_bomb"):
        data = {"gzip": lambda: gzip.compress(journal_text().encode()), "bomb": gzip_bomb,
                "newline_bomb": newline_bomb}[journal]()
        message.add_attachment(data, maintype="application", subtype="gzip",
                               filename="journal-24h.log.gz")
    return message


def _diagnostic_bytes(doc: dict[str, Any], o: dict[str, Any]) -> bytes:
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    if o.get("malformed_json"):
        # Drop the comma after "format": 1 -> "Expecting ',' delimiter" at line 3, column 3.
        text = text.replace('"format": 1,', '"format": 1', 1)
    return text.encode("utf-8")


def _forward_inline(report: EmailMessage, body_doc: dict[str, Any], o: dict[str, Any]) -> bytes:
    quoted = "\n".join(("> " + line).rstrip() for line in
                       body_block(body_doc, english=bool(o.get("english"))).split("\n"))
    text = ("Bonjour,\n\nJe vous transfère la demande d'une collègue, l'envoi automatique "
            "n'a pas fonctionné.\n\nMarc Lemaire\nDirecteur\n\n"
            "-------- Message transféré --------\n"
            f"Sujet\u00a0: {report['Subject']}\nDate\u00a0: {MAIL_DATE}\n"
            f"De\u00a0: {TEACHER}\nPour\u00a0: {SUPPORT}\n\n{quoted}\n")
    message = _envelope(DIRECTOR, "TR: " + str(report["Subject"]))
    message.set_content(text)
    return message.as_bytes()
