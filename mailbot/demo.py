"""``mailbot demo``: the whole loop on sample mail, in a folder, with no server.

Creates ``DIR/mailbot.db`` (SQLite), ``DIR/inbox`` (a Maildir seeded with a
French question, the teacher's reply to it, an English question, an
out-of-office auto-reply, a bounce, an e-carnet assistance report sent
twice, then a staff member's solution, the teacher's « ça marche » and her
rating) and ``DIR/sent`` (a Maildir where the
answers are delivered), then polls and flushes once. Seeding skips files
already there and processing dedupes, so a second run adds nothing.
"""

from __future__ import annotations

import email.policy
from email.message import EmailMessage
from pathlib import Path

from mailbot import views
from mailbot.config import load_config
from mailbot.demo_report import report_mail
from mailbot.report_views import report_block
from mailbot.service import Service
from mailbot.store import queries

SCHOOL = "ecole-jules-ferry.example"
QUESTION_ID = f"<demo-question-1@{SCHOOL}>"


def _mail(headers: dict[str, str], body: str) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    for name, value in headers.items():
        message[name] = value
    message.set_content(body, cte="quoted-printable")
    return message


def _question() -> EmailMessage:
    return _mail({
        "From": f"Élodie Martin <elodie.martin@{SCHOOL}>",
        "To": "Support e-carnet <support@ecarnet.example>",
        "Subject": "Impossible d'ajouter des photos au carnet de ma classe",
        "Date": "Mon, 23 Nov 2026 08:12:00 +0100",
        "Message-ID": QUESTION_ID,
    }, "Bonjour,\n\nDepuis la mise à jour d'hier, je n'arrive plus à ajouter de photos "
       "dans le carnet de ma classe de CE2 : l'application tourne puis affiche « Échec de "
       "l'envoi ».\nJ'utilise un iPad de l'école, la connexion wifi fonctionne.\n\n"
       "Pouvez-vous m'aider ? Les parents attendent les photos de la sortie.\n\n"
       "Merci d'avance,\nÉlodie Martin\nÉcole Jules-Ferry\n")


def _reply() -> EmailMessage:
    quoted = "\n".join("> " + line for line in _question().get_content().splitlines())
    return _mail({
        "From": f"Élodie Martin <elodie.martin@{SCHOOL}>",
        "To": "Support e-carnet <support@ecarnet.example>",
        "Subject": "Re: Impossible d'ajouter des photos au carnet de ma classe",
        "Date": "Mon, 23 Nov 2026 09:40:00 +0100",
        "Message-ID": f"<demo-reply-1@{SCHOOL}>",
        "In-Reply-To": QUESTION_ID,
        "References": QUESTION_ID,
    }, "Je précise : le problème arrive aussi avec les vidéos, et seulement pour "
       "le carnet de Lucas et de Tom.\n\nÉlodie\n\n"
       f"Le lun. 23 nov. 2026 à 08:12, Élodie Martin <elodie.martin@{SCHOOL}> a écrit :\n"
       + quoted + "\n")


STAFF = "marie.durand@ecarnet.example"
# What our receiving server writes for a mail it verified (see docs/staff.md).
STAFF_AUTHENTICATED = ("mx.ecarnet.example; dkim=pass header.d=ecarnet.example "
                       "header.s=mail; spf=pass smtp.mailfrom=marie.durand@ecarnet.example")


def _staff_solution() -> EmailMessage:
    return _mail({
        "From": f"Marie Durand <{STAFF}>",
        "To": "Support e-carnet <support@ecarnet.example>",
        "Subject": "Re: Impossible d'ajouter des photos au carnet de ma classe",
        "Date": "Mon, 23 Nov 2026 14:02:00 +0100",
        "Message-ID": "<demo-staff-1@ecarnet.example>",
        "In-Reply-To": f"<demo-reply-1@{SCHOOL}>",
        "Authentication-Results": STAFF_AUTHENTICATED,
    }, "#solution\n\nBonjour Madame Martin,\n\nLa version 2.2.5 corrige l'envoi des photos "
       "et des vidéos après la mise à jour. Installez-la depuis l'App Store, puis ouvrez "
       "Réglages > Synchroniser maintenant : les médias en attente partiront.\n\n-- \n"
       "Marie Durand\nAssistance e-carnet\n")


def _teacher_confirms() -> EmailMessage:
    return _mail({
        "From": f"Élodie Martin <elodie.martin@{SCHOOL}>",
        "To": "Support e-carnet <support@ecarnet.example>",
        "Subject": "Re: Impossible d'ajouter des photos au carnet de ma classe",
        "Date": "Mon, 23 Nov 2026 16:30:00 +0100",
        "Message-ID": f"<demo-confirm-1@{SCHOOL}>",
        "In-Reply-To": QUESTION_ID,
    }, "Ça marche, merci beaucoup !\n\nÉlodie\n")


def _teacher_rates() -> EmailMessage:
    return _mail({
        "From": f"Élodie Martin <elodie.martin@{SCHOOL}>",
        "To": "Support e-carnet <support@ecarnet.example>",
        "Subject": "Re: Impossible d'ajouter des photos au carnet de ma classe",
        "Date": "Mon, 23 Nov 2026 16:45:00 +0100",
        "Message-ID": f"<demo-rating-1@{SCHOOL}>",
        "In-Reply-To": QUESTION_ID,
    }, "5 - réponse rapide et claire.\n")


def _english_question() -> EmailMessage:
    return _mail({
        "From": "James Carter <j.carter@international-school.example>",
        "To": "support@ecarnet.example",
        "Subject": "Cannot export a student portfolio to PDF",
        "Date": "Mon, 23 Nov 2026 10:05:00 +0000",
        "Message-ID": "<demo-question-2@international-school.example>",
    }, "Hello,\n\nWhen I try to export a portfolio to PDF the app shows an error and "
       "nothing is saved. This happens on every student of my class.\n\n"
       "Thanks for your help,\nJames\n")


def _out_of_office() -> EmailMessage:
    return _mail({
        "From": f"Paul Bernard <paul.bernard@{SCHOOL}>",
        "To": "support@ecarnet.example",
        "Subject": "Réponse automatique : absent jusqu'au 30 novembre",
        "Date": "Mon, 23 Nov 2026 11:00:00 +0100",
        "Message-ID": f"<demo-ooo-1@{SCHOOL}>",
        "Auto-Submitted": "auto-replied",
    }, "Je suis absent jusqu'au 30 novembre et je n'ai pas accès à ma messagerie.\n")


def _bounce() -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.ecarnet.example>\r\n"
        "To: support@ecarnet.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Date: Mon, 23 Nov 2026 11:30:00 +0100\r\n"
        "Message-ID: <demo-bounce-1@mx.ecarnet.example>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "This is the mail system. Your message could not be delivered to "
        "<ancien.compte@college-exemple.example>: user unknown.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.ecarnet.example\r\n\r\n"
        "Final-Recipient: rfc822; ancien.compte@college-exemple.example\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        "--b1--\r\n"
    ).encode("ascii")


def sample_mails() -> dict[str, bytes]:
    """File name -> raw bytes of each demo message, in arrival order."""
    as_bytes = lambda m: m.as_bytes(policy=email.policy.SMTP)  # noqa: E731
    return {
        "0001.demo-question": as_bytes(_question()),
        "0002.demo-reply": as_bytes(_reply()),
        "0003.demo-english-question": as_bytes(_english_question()),
        "0004.demo-out-of-office": as_bytes(_out_of_office()),
        "0005.demo-bounce": _bounce(),
        "0006.demo-report": report_mail(),
        # The teacher pressed the button twice: same report id, another Message-ID.
        "0007.demo-report-resent": report_mail().replace(
            b"<demo-report-1@", b"<demo-report-1-resent@"),
        "0008.demo-staff-solution": as_bytes(_staff_solution()),
        "0009.demo-teacher-confirms": as_bytes(_teacher_confirms()),
        "0010.demo-teacher-rates": as_bytes(_teacher_rates()),
    }


def seed_maildir(inbox: Path) -> int:
    """Write the sample mails into ``inbox/new`` unless already delivered; count new ones."""
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    present = {p.name.split(":", 1)[0] for sub in ("new", "cur") for p in (inbox / sub).iterdir()}
    added = 0
    for name, raw in sample_mails().items():
        if name not in present:
            (inbox / "new" / name).write_bytes(raw)
            added += 1
    return added


DEMO_CONFIG = """\
# Written by `mailbot demo`: the embedded default, rooted in this folder.
# Try: uv run mailbot tickets list --config {path}
[database]
url = "sqlite:///mailbot.db"

[source]
kind = "maildir"
maildir.path = "inbox"

[sender]
kind = "maildir"
maildir.path = "sent"

[[staff]]
address = "marie.durand@ecarnet.example"
name = "Marie Durand"
team = "technique"

[staff_auth]
# Your receiving server's authserv-id in production (see docs/staff.md).
authserv_ids = ["mx.ecarnet.example"]
"""


def demo_config(directory: Path) -> Path:
    """Write ``mailbot.toml`` for the demo folder (once) and return its path."""
    path = directory / "mailbot.toml"
    if not path.exists():
        path.write_text(DEMO_CONFIG.format(path=path), encoding="utf-8")
    return path


def _report_diagnoses(service: Service) -> list[str]:
    lines: list[str] = []
    for ticket in queries.list_tickets(service.engine):
        view = queries.ticket_view(service.engine, ticket.ref)
        for report in view.reports if view else []:
            lines += ["", f"Diagnosis of {ticket.ref}, as `tickets show` prints it:",
                      report_block(report.data)]
    return lines


def _staff_history(service: Service) -> list[str]:
    """The history of the ticket Marie answered, as `tickets show` prints it."""
    for ticket in queries.list_tickets(service.engine):
        view = queries.ticket_view(service.engine, ticket.ref)
        if view and ticket.assignee == STAFF:
            return ["", f"History of {ticket.ref} (answered by mail by {STAFF}):",
                    *(views.history_line(e) for e in view.events),
                    *(f"  rating: {r.score}/5  « {r.comment} »" for r in view.ratings)]
    return []


def run_demo(directory: Path) -> str:
    """Seed, poll, flush; return a printable summary."""
    directory = directory.resolve()
    seeded = seed_maildir(directory / "inbox")
    config_path = demo_config(directory)
    service = Service.from_config(load_config(config_path))
    report = service.poll()
    flushed = service.flush()
    sent = sorted(p for sub in ("new", "cur") for p in (directory / "sent" / sub).glob("*"))
    return "\n".join([
        f"demo folder: {directory}",
        f"seeded {seeded} new sample mail(s) into {directory / 'inbox'}",
        views.poll_summary(report, flushed),
        "",
        "Tickets:",
        views.tickets_table(queries.list_tickets(service.engine)),
        "",
        "Incoming messages:",
        views.messages_table(queries.list_messages(service.engine)),
        "",
        "Incidents (reports sharing app version + main error):",
        views.incidents_table(queries.list_incidents(service.engine)),
        *_report_diagnoses(service),
        *_staff_history(service),
        "",
        f"Outgoing mail ({len(sent)}) written to {directory / 'sent'}:",
        *(f"  {p}" for p in sent),
        "",
        f"Next: uv run mailbot tickets show REF --config {config_path}",
    ])
