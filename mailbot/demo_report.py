"""A realistic e-carnet assistance report for ``mailbot demo``.

Format 1 of docs/reports.md: label block in the body, ``diagnostic.json``,
``eleves.csv``, ``medias.csv`` and a gzip journal. The data is invented and
deliberately carries a few problems support should see at once: storage
nearly full, a sync stale for two days, a media row for an unknown student,
a student without media, and an app one version behind.
"""

from __future__ import annotations

import email.policy
import gzip
import json
from email.message import EmailMessage

TEACHER = "Claire Dubois <claire.dubois@ecole-les-tilleuls.example>"
REPORT_ID = "6f1c2a7e-3b5d-4e8f-9a10-2c4d6e8f0a1b"
STUDENTS = [  # id, nom, prenom, statut
    ("E-0001", "Fontaine", "Léa", "actif"), ("E-0002", "N'Diaye", "Moussa", "actif"),
    ("E-0003", "Lefèvre", "Chloé", "actif"), ("E-0004", "Benali", "Inès", "inactif"),
    ("E-0005", "Garnier", "Théo", "actif"), ("E-0006", "Rousseau", "Jules", "actif"),
]
MEDIA = [("E-0001", 42, 3, 5, 187_465_221), ("E-0002", 38, 1, 2, 96_112_004),
         ("E-0003", 51, 4, 7, 243_900_812), ("E-0005", 12, 0, 1, 31_877_020),
         ("E-0006", 27, 2, 3, 120_554_310), ("E-0042", 3, 0, 0, 8_112_333)]

BODY = """Demande d'assistance e-carnet

Priorité : urgente
Destinataire : support technique
Niveau de détail : complet
Données sensibles : incluses
Consentement au traitement : oui

Description du problème :
La synchronisation reste bloquée à 45 % depuis samedi soir. Les photos de la
sortie au musée n'apparaissent pas chez les parents.

Actions effectuées avant l'incident :
Ajout de 30 photos dans le portfolio de la classe de CE2.

Fréquence : à chaque synchronisation
Impact : bloquant

Version de l'application : 2.2.4 (build 2240)
Système : iPadOS 17.4
Mémoire : 3 Go (libre : 412 Mo)
Stockage : 64 Go (libre : 1,2 Go)
Réseau : wifi
"""


def _diagnostic() -> dict[str, object]:
    return {
        "format": 1, "report_id": REPORT_ID, "generated_at": "2026-11-23T09:15:02+01:00",
        "app": {"version": "2.2.4", "build": 2240, "locale": "fr-FR"},
        "device": {"os": "iPadOS", "os_version": "17.4", "model": "iPad (9th generation)",
                   "ram_total_mb": 3072, "ram_free_mb": 412,
                   "storage_total_mb": 65536, "storage_free_mb": 1228},
        "network": {"state": "wifi", "latency_ms": 84},
        "request": {"priority": "urgente", "recipient": "technique",
                    "detail_level": "complet", "sensitive_data": "incluses", "consent": True},
        "user_context": {
            "description": "La synchronisation reste bloquée à 45 % depuis samedi soir. "
                           "Les photos de la sortie au musée n'apparaissent pas chez les parents.",
            "actions": "Ajout de 30 photos dans le portfolio de la classe de CE2.",
            "frequency": "à chaque synchronisation", "impact": "bloquant"},
        "errors": [{"at": "2026-11-23T08:58:10+01:00", "code": "SYNC-504",
                    "message": "Délai dépassé lors de l'envoi du média 17", "screen": "portfolio"}],
        "sync": {"state": "bloquee", "last_success_at": "2026-11-21T18:02:00+01:00",
                 "pending_items": 31, "last_error": "SYNC-504"},
        "usage": {"students": 6, "portfolios": 6, "sessions_7d": 12},
    }


def _csv(rows: list[tuple[object, ...]], header: str) -> bytes:
    lines = [header, *(";".join(str(v) for v in row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _journal() -> bytes:
    entries = [f"2026-11-23T0{h}:{m:02d}:10+01:00 ERROR SYNC-504 Délai dépassé (média {m})"
               for h in range(6, 9) for m in range(0, 60, 12)]
    entries.append("2026-11-23T08:40:00+01:00 ERROR AUTH-401 Jeton expiré, renouvelé")
    return gzip.compress(("\n".join(entries) + "\n").encode("utf-8"), mtime=0)


def report_mail() -> bytes:
    """The demo report as RFC 5322 bytes."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = TEACHER
    message["To"] = "Support e-carnet <support@ecarnet.example>"
    message["Subject"] = "[e-carnet] Demande d'assistance : synchronisation bloquée"
    message["Date"] = "Mon, 23 Nov 2026 09:15:30 +0100"
    message["Message-ID"] = "<demo-report-1@ecole-les-tilleuls.example>"
    message["X-ECarnet-Report"] = "1"
    message["X-ECarnet-App-Version"] = "2.2.4"
    message["X-ECarnet-Report-Id"] = REPORT_ID
    message.set_content(BODY, cte="quoted-printable")
    message.add_attachment(json.dumps(_diagnostic(), ensure_ascii=False, indent=2).encode(),
                           maintype="application", subtype="json", filename="diagnostic.json")
    students = [(i, nom, prenom, "2024-09-02", "2026-11-20T17:40:00+01:00", statut)
                for i, nom, prenom, statut in STUDENTS]
    message.add_attachment(_csv(students, "id;nom;prenom;cree_le;derniere_activite;statut"),
                           maintype="text", subtype="csv", filename="eleves.csv")
    message.add_attachment(_csv(MEDIA, "eleve_id;photos;videos;documents;taille_octets"),
                           maintype="text", subtype="csv", filename="medias.csv")
    message.add_attachment(_journal(), maintype="application", subtype="gzip",
                           filename="journal-24h.log.gz")
    return message.as_bytes()
