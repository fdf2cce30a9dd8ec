"""Inline test mail: ``make_mail(body, **headers)`` -> RFC 5322 bytes (CRLF)."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage

DEFAULTS = {
    "From": "Élodie Martin <elodie.martin@ecole-jules-ferry.example>",
    "To": "Support e-carnet <support@ecarnet.example>",
    "Subject": "Les photos ne se synchronisent plus",
    "Date": "Mon, 23 Nov 2026 08:12:00 +0100",
}
FRENCH_BODY = (
    "Bonjour,\n\nDepuis hier, les photos de ma classe de CM1 ne se synchronisent plus : "
    "l'application reste bloquée à 45 %.\nPouvez-vous m'aider ?\n\nMerci,\nÉlodie\n"
)


def make_mail(body: str = FRENCH_BODY, message_id: str = "<q1@ecole-jules-ferry.example>",
              **headers: str) -> bytes:
    """A text/plain UTF-8 message; keyword names use ``_`` for ``-`` (``In_Reply_To``)."""
    message = EmailMessage(policy=email.policy.SMTP)
    fields = {**DEFAULTS, **{k.replace("_", "-"): v for k, v in headers.items()}}
    if message_id:
        fields["Message-ID"] = message_id
    for name, value in fields.items():
        if value is not None:
            message[name] = value
    message.set_content(body, cte="quoted-printable")
    return message.as_bytes()
