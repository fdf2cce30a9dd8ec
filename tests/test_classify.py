"""Tests for mailbot.classify: every signal, its negatives, precedence, hostile input, corpus."""

from __future__ import annotations

import csv
import email
import email.policy
import textwrap
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbot.classify import OwnIdentity, checks, classify
from mailbot.model import MailKind, Verdict

IDENTITY = OwnIdentity(
    addresses=frozenset({"support@helpdesk.example.test"}),
    message_id_domains=frozenset({"helpdesk.example.test"}),
)
SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"


def mfs(text: str | bytes) -> EmailMessage:
    """A message from inline RFC 5322 text (dedented) or raw bytes, as the parse stage reads it."""
    raw = text if isinstance(text, bytes) else textwrap.dedent(text).lstrip().encode()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def verdict(text: str | bytes, sender: str = "") -> Verdict:
    return classify(mfs(text), sender, IDENTITY)


def kind(text: str | bytes, sender: str = "") -> MailKind:
    return verdict(text, sender).kind


def person(extra: str = "", subject: str = "Question sur mon carnet") -> str:
    """A plain message from a person, with *extra* header lines inserted."""
    return (
        "From: Élodie Martin <elodie@example.fr>\n"
        "To: support@helpdesk.example.test\n"
        f"Subject: {subject}\n"
        "Message-ID: <abc123@mail.example.fr>\n"
        f"{extra}"
        "Content-Type: text/plain; charset=utf-8\n"
        "\n"
        "Bonjour,\nje n'arrive pas à me connecter.\n"
    )


DSN = """\
From: MTA <mta@mx.example.org>
Subject: Failure notice
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; nobody@example.org
Action: failed
Status: 5.1.1
--b--
"""


# --- the registry --------------------------------------------------------------------


def test_checks_are_ordered_named_and_described() -> None:
    rules = checks(IDENTITY)
    assert [r.name for r in rules] == ["own", "bounce", "auto_reply", "list"]
    assert [r.kind for r in rules] == [
        MailKind.OWN,
        MailKind.BOUNCE,
        MailKind.AUTO_REPLY,
        MailKind.LIST,
    ]
    assert all(r.description for r in rules)


def test_a_miss_returns_none() -> None:
    message = mfs(person())
    assert all(r.check(message, "elodie@example.fr") is None for r in checks(IDENTITY))


# --- normal ------------------------------------------------------------------------------


def test_normal_french_mail_is_normal() -> None:
    text = person(
        "In-Reply-To: <t1@helpdesk.example.test>\n"
        "X-Mailer: Microsoft Outlook 16.0\n"
        "Importance: Normal\n",
        subject="=?utf-8?q?R=C3=A9p=2E=C2=A0=3A_Probl=C3=A8me_de_connexion?=",
    )
    assert verdict(text, "elodie@example.fr") == Verdict(
        MailKind.NORMAL, "no automated-mail signal"
    )


def test_x_auto_response_suppress_alone_is_normal() -> None:
    # Outlook/Exchange set it on ordinary mail (and Exchange distribution lists add it).
    assert kind(person("X-Auto-Response-Suppress: All\n")) == MailKind.NORMAL
    assert kind(person("X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply\n")) == "normal"


# --- own ---------------------------------------------------------------------------------


def test_our_own_from_address_is_own() -> None:
    text = person().replace(
        "Élodie Martin <elodie@example.fr>", "Support <Support@Helpdesk.Example.Test>"
    )
    assert verdict(text) == Verdict(
        MailKind.OWN, "From is our own address support@helpdesk.example.test"
    )


def test_our_own_sender_argument_is_own() -> None:
    assert kind(person(), sender="support@helpdesk.example.test") == MailKind.OWN


def test_message_id_on_our_domain_is_own() -> None:
    text = person().replace("<abc123@mail.example.fr>", "<tkt-42.x@HelpDesk.example.test>")
    assert verdict(text) == Verdict(
        MailKind.OWN, "Message-ID domain is our own: helpdesk.example.test"
    )


def test_message_id_on_a_subdomain_is_not_own() -> None:
    text = person().replace("<abc123@mail.example.fr>", "<x@mail.helpdesk.example.test>")
    assert kind(text) == MailKind.NORMAL


# --- bounce ------------------------------------------------------------------------------


def test_delivery_status_report_is_bounce() -> None:
    assert verdict(DSN) == Verdict(MailKind.BOUNCE, "multipart/report; report-type=delivery-status")


def test_delivery_status_part_without_report_type_is_bounce() -> None:
    text = DSN.replace("multipart/report; report-type=delivery-status;", "multipart/mixed;")
    assert verdict(text) == Verdict(MailKind.BOUNCE, "message/delivery-status part")


def test_forwarded_bounce_from_a_person_is_normal() -> None:
    # The DSN sits inside an attached message: it reports on another message.
    text = (
        "From: Élodie <elodie@example.fr>\nSubject: Fwd: erreur\nContent-Type: multipart/mixed; "
        'boundary="outer"\n\n--outer\nContent-Type: text/plain\n\nVoici le message reçu.\n'
        "--outer\nContent-Type: message/rfc822\n\n" + DSN + "--outer--\n"
    )
    assert kind(text) == MailKind.NORMAL


@pytest.mark.parametrize("local", ["MAILER-DAEMON", "mailer-daemon", "Postmaster", "POSTMASTER"])
def test_daemon_from_is_bounce(local: str) -> None:
    text = person().replace("Élodie Martin <elodie@example.fr>", f"{local}@mx.example.org")
    assert verdict(text) == Verdict(MailKind.BOUNCE, f"sender {local}@mx.example.org")


def test_daemon_sender_argument_is_bounce() -> None:
    assert verdict(person(), "MAILER-DAEMON@x.example") == Verdict(
        MailKind.BOUNCE, "sender MAILER-DAEMON@x.example"
    )


@pytest.mark.parametrize("from_", ["<>", '"MAILER DAEMON" <>', "Mail Delivery System <>"])
def test_null_from_is_bounce(from_: str) -> None:
    text = person().replace("Élodie Martin <elodie@example.fr>", from_)
    assert verdict(text) == Verdict(MailKind.BOUNCE, "null sender <>")


def test_garbage_from_is_not_a_null_sender() -> None:
    # The stdlib reports this From as addr-spec '<>' too; it is garbage, not a null sender.
    assert kind(person().replace("Élodie Martin <elodie@example.fr>", "[??????]")) == "normal"


def test_x_failed_recipients_is_bounce() -> None:
    assert verdict(person("X-Failed-Recipients: nobody@example.org\n")) == Verdict(
        MailKind.BOUNCE, "X-Failed-Recipients: nobody@example.org"
    )


@pytest.mark.parametrize("name", ["Mail Delivery System", "Mail Delivery Subsystem"])
def test_delivery_system_display_name_is_bounce(name: str) -> None:
    text = person().replace("Élodie Martin <elodie@example.fr>", f"{name} <bounces@mx.example.org>")
    assert verdict(text) == Verdict(MailKind.BOUNCE, f"From display name {name!r}")


NDR_SUBJECTS = [
    "Undeliverable: Question",
    "Undelivered Mail Returned to Sender",
    "Delivery Status Notification (Failure)",
    "=?iso-8859-1?q?Non_remis_:_Votre_demande?=",
    "Returned mail: see transcript for details",
]


@pytest.mark.parametrize("subject", NDR_SUBJECTS)
def test_ndr_subject_with_null_return_path_is_bounce(subject: str) -> None:
    v = verdict(person("Return-Path: <>\n", subject=subject))
    assert v.kind == MailKind.BOUNCE
    assert v.reason.endswith("with Return-Path: <>")


@pytest.mark.parametrize("subject", NDR_SUBJECTS)
def test_ndr_subject_with_a_report_part_is_bounce(subject: str) -> None:
    text = (
        DSN.replace("Subject: Failure notice", f"Subject: {subject}")
        .replace("report-type=delivery-status", "report-type=x-unknown")
        .replace("message/delivery-status", "text/plain")
    )
    assert verdict(text).reason.endswith("with a multipart/report part")


@pytest.mark.parametrize("subject", NDR_SUBJECTS)
def test_ndr_subject_alone_is_normal(subject: str) -> None:
    assert kind(person(subject=subject)) == MailKind.NORMAL


# --- auto_reply --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "auto-replied",
        "auto-generated",
        "Auto-Replied; owner-email=x@example.org",
        "auto-generated (failure)",
        "AUTO-NOTIFIED",
        "x-something-else",
    ],
)
def test_auto_submitted_is_auto_reply(value: str) -> None:
    assert verdict(person(f"Auto-Submitted: {value}\n")) == Verdict(
        MailKind.AUTO_REPLY, f"Auto-Submitted: {value}"
    )


@pytest.mark.parametrize("value", ["no", "No", " NO ", "no (a person wrote this)"])
def test_auto_submitted_no_is_normal(value: str) -> None:
    assert kind(person(f"Auto-Submitted: {value}\n")) == MailKind.NORMAL


@pytest.mark.parametrize("header", [
    "X-Autoreply: yes",
    "X-Autorespond: Vacation",
    "X-Auto-Reply: yes",
    "X-Autoresponder: Will not send another autoreply for 86400 seconds",  # OpenSRS
    "X-Autoresponse: yes",
    "X-AutoReply-From: elodie@example.fr",
])
def test_autoreply_headers_are_auto_reply(header: str) -> None:
    assert verdict(person(f"{header}\n")) == Verdict(MailKind.AUTO_REPLY, header)


@pytest.mark.parametrize("value", ["bulk", "junk", "auto_reply", "Bulk"])
def test_precedence_is_auto_reply(value: str) -> None:
    assert verdict(person(f"Precedence: {value}\n")) == Verdict(
        MailKind.AUTO_REPLY, f"Precedence: {value.lower()}"
    )


@pytest.mark.parametrize(("line", "reason"), [
    ("Precedence:  Bulk (newsletter)", "Precedence: bulk"),
    ("Precedence: auto-reply", "Precedence: auto_reply"),
    ("Precedence: junk; x=y", "Precedence: junk"),
    ("X-Precedence: bulk", "X-Precedence: bulk"),
    ("Delivered-To: Autoresponder", "Delivered-To: Autoresponder"),
])
def test_precedence_variants_and_qmail_autoresponder(line: str, reason: str) -> None:
    assert verdict(person(f"{line}\n")) == Verdict(MailKind.AUTO_REPLY, reason)


@pytest.mark.parametrize("value", ["first-class", "normal", "", "bulkier"])
def test_other_precedence_values_are_normal(value: str) -> None:
    assert kind(person(f"Precedence: {value}\n")) == MailKind.NORMAL


def test_delivered_to_a_person_is_normal() -> None:
    assert kind(person("Delivered-To: support@helpdesk.example.test\n")) == MailKind.NORMAL


REAL_AUTORESPONDERS = {
    # Gmail's vacation responder.
    "gmail": "Auto-Submitted: auto-replied\nX-Autoreply: yes\n",
    # Mail.ru (freescout-help-desk/freescout#2826).
    "mail.ru": "Auto-Submitted: auto-replied\nX-AutoReply: elodie@example.fr\nPrecedence: bulk\n",
    # Microsoft 365 out-of-office reply.
    "m365": "Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\n",
    # Mimecast autoresponder (corpus sisimai/bsd/rfc3834-06.eml).
    "mimecast": ("Auto-Submitted: auto-replied\n"
                 "X-Auto-Response-Suppress: OOF, AutoReply, DR, NDR, RN, NRN\nPrecedence: bulk\n"),
    # OpenSRS via Amazon SES (freescout-help-desk/freescout#4226).
    "opensrs": "X-Autoresponder: Will not send another autoreply for 86400 seconds\n",
}


@pytest.mark.parametrize("extra", REAL_AUTORESPONDERS.values(), ids=REAL_AUTORESPONDERS.keys())
def test_headers_real_autoresponders_send_are_recognised(extra: str) -> None:
    assert kind(person(extra, subject="Re: Question")) == MailKind.AUTO_REPLY


def test_x_precedence_list_is_list() -> None:
    assert verdict(person("X-Precedence: list\n")) == Verdict(MailKind.LIST, "X-Precedence: list")


@pytest.mark.parametrize("report", ["disposition-notification", "feedback-report"])
def test_mdn_and_arf_reports_are_auto_reply(report: str) -> None:
    text = (
        "From: Joe <joe@example.org>\nSubject: Read: Question\n"
        f'Content-Type: multipart/report; report-type={report}; boundary="b"\n\n'
        f"--b\nContent-Type: text/plain\n\nDisplayed.\n--b\nContent-Type: message/{report}\n\n"
        "Final-Recipient: rfc822; joe@example.org\n--b--\n"
    )
    assert verdict(text) == Verdict(MailKind.AUTO_REPLY, f"multipart/report; report-type={report}")


VACATION_SUBJECTS = [
    "=?utf-8?q?R=C3=A9ponse_automatique_=3A_Question?=",
    "Absence du bureau",
    "Out of Office: Question",
    "Automatic reply: Question",
    "Abwesenheitsnotiz: Frage",
    "AutoReply: Question",
]


@pytest.mark.parametrize(
    "header",
    [
        "X-MS-Exchange-Inbox-Rules-Loop: elodie@example.fr",
        "X-Mailer: Vacation autoresponder 2.1",
        "Return-Path: <>",
    ],
)
@pytest.mark.parametrize("subject", VACATION_SUBJECTS)
def test_vacation_subject_with_a_header_signal_is_auto_reply(subject: str, header: str) -> None:
    v = verdict(person(f"{header}\n", subject=subject))
    assert v.kind == MailKind.AUTO_REPLY
    assert v.reason.startswith("subject ")


EXCHANGE_REPLY_SUBJECTS = [
    "Automatic reply: Question",
    "=?utf-8?q?R=C3=A9ponse_automatique=C2=A0=3A_Question?=",  # with a no-break space
    "Réponse automatique : Question",
    "Automatische Antwort: Welcome",
    "Out of Office AutoReply: Question",
    "Out of Office: Question",
    "Respuesta automática: Pregunta",
    "AutoReply: Question",
]


@pytest.mark.parametrize("subject", EXCHANGE_REPLY_SUBJECTS)
def test_exchange_reply_prefix_with_suppress_all_is_auto_reply(subject: str) -> None:
    # Exchange out-of-office replies without Auto-Submitted: the subject starts with the
    # responder's prefix and Exchange stamps X-Auto-Response-Suppress: All on them.
    text = person("X-Auto-Response-Suppress: All\nThread-Topic: Question\n", subject=subject)
    v = verdict(text)
    assert v.kind == MailKind.AUTO_REPLY
    assert v.reason.startswith("subject starting ")
    assert v.reason.endswith("with X-Auto-Response-Suppress: All")


@pytest.mark.parametrize(("suppress", "subject"), [
    # A person's subject that merely mentions absence or automatic replies.
    ("All", "Absence du bureau"),
    ("All", "Question sur la réponse automatique de l'appli"),
    ("All", "Re: Out of office: question"),
    # The kinds an Exchange distribution list stamps on ordinary mail are not "All".
    ("DR, OOF, AutoReply", "Automatic reply: Question"),
    ("OOF", "Réponse automatique : Question"),
])
def test_suppress_header_on_a_person_s_mail_stays_normal(suppress: str, subject: str) -> None:
    text = person(f"X-Auto-Response-Suppress: {suppress}\n", subject=subject)
    assert kind(text) == MailKind.NORMAL


@pytest.mark.parametrize("subject", VACATION_SUBJECTS)
def test_vacation_subject_alone_is_normal(subject: str) -> None:
    # A person may well write "Absence du bureau" to the help desk.
    assert kind(person(subject=subject)) == MailKind.NORMAL


# --- list ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "List-Id: Parents <parents.lists.example.org>",
        "List-Unsubscribe: <mailto:leave@lists.example.org>",
        "List-Post: <mailto:parents@lists.example.org>",
        "Mailing-List: contact parents-help@lists.example.org; run by ezmlm",
        "Precedence: list",
    ],
)
def test_list_headers_are_list(header: str) -> None:
    assert verdict(person(f"{header}\n")) == Verdict(MailKind.LIST, header)


# --- precedence ------------------------------------------------------------------------------


def test_bounce_with_list_id_is_bounce() -> None:
    text = DSN.replace("Subject:", "List-Id: <x.example>\nPrecedence: list\nSubject:")
    assert kind(text) == MailKind.BOUNCE


def test_bounce_with_auto_submitted_is_bounce() -> None:
    assert kind(DSN.replace("Subject:", "Auto-Submitted: auto-replied\nSubject:")) == "bounce"


def test_auto_reply_on_a_list_is_auto_reply() -> None:
    assert kind(person("List-Id: <x.example>\nPrecedence: bulk\n")) == MailKind.AUTO_REPLY


def test_own_beats_everything() -> None:
    text = DSN.replace("MTA <mta@mx.example.org>", "support@helpdesk.example.test")
    assert kind(text + "\n") == MailKind.OWN


# --- hostile input ---------------------------------------------------------------------------

HOSTILE = [
    b"",
    b"\n\nbody only",
    b"\xff\xfe\x00\x01 garbage\n",
    b'From: "x" <"y"@[1.2.3.4>\n\n',  # policy.default raises AttributeError reading it
    b"From: @@@, ;;, <<>>\nTo: ,,,\n\n",
    b"Content-Type: ;;;==\n\n",
    b"Content-Type: multipart/report; report-type=\n\n",
    b'Content-Type: multipart/mixed; boundary="x"\n\n--x\nContent-Type: multipart/mixed\n\n',
    b"Message-ID: <<<@@@>>>\nSubject: =?utf-8?b?////?=\nAuto-Submitted: no\n\n",
    b"Subject: \xe9t\xe9 \xff\nList-Id: \xff\xfe\n\n",
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_input_never_raises(raw: bytes) -> None:
    assert isinstance(verdict(raw, sender="<>"), Verdict)


def test_unparsable_from_is_read_raw() -> None:
    # policy.default raises on this From; the raw value still shows the daemon.
    assert kind(b'From: "x" <MAILER-DAEMON@[1.2.3.4>\n\n') == MailKind.BOUNCE


def test_empty_auto_submitted_counts() -> None:
    assert verdict(b"Auto-Submitted:\n\n").reason == "Auto-Submitted: (empty)"


def test_reasons_are_one_printable_line() -> None:
    v = verdict(person("X-Failed-Recipients: a@example.org,\n\tb@example.org\x07\n"))
    assert v.reason.isprintable()


# --- the shared corpus -----------------------------------------------------------------------

# MANIFEST traits we do not meet on purpose (path -> why). The traits come from a heuristic
# (corpus/README.md, "How traits were determined"); the classifier is not bent to match them.
# Empty: every bounce / auto-reply / list file is classified as the manifest expects.
MANIFEST_EXCEPTIONS: dict[str, str] = {}

# Files with none of those traits that mailbot still keeps from auto-replies, on purpose.
STRICTER_THAN_MANIFEST = {
    # Precedence: junk is a header signal (RFC 3834 practice); the manifest only counts
    # Precedence: auto_reply. Both are spam samples, which must not be answered either.
    "eml/mail-parser/mail_test_16.eml": MailKind.AUTO_REPLY,
    "eml/mikel-mail/bad_date_header.eml": MailKind.AUTO_REPLY,
    # An ARF abuse report (multipart/report; report-type=feedback-report): machine-generated;
    # the manifest's auto-reply heuristic knows MDNs but not ARF.
    "eml/sisimai/bsd/arf-01.eml": MailKind.AUTO_REPLY,
    # Spam whose From is '"我" <>' (with Return-Path: <>): the null From is a bounce signal,
    # so it is filed as a bounce though it is not one. Never answering it is still right:
    # it names no address of its own, and a reply would go to its Reply-To.
    "eml/zammad/mail019.eml": MailKind.BOUNCE,
}
EXPECTED = {
    "bounce": {MailKind.BOUNCE},
    "auto-reply": {MailKind.AUTO_REPLY, MailKind.BOUNCE},
    "list": set(MailKind) - {MailKind.NORMAL},
}


def _manifest() -> list[tuple[str, frozenset[str]]]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        (r["path"], frozenset(r["traits"].split(","))) for r in rows if r["path"].endswith(".eml")
    ]


ROWS = _manifest()
NO_CORPUS = pytest.mark.skip(reason=f"shared corpus not found: {CORPUS / 'MANIFEST.tsv'}")
CASES = [pytest.param(p, t, id=p) for p, t in ROWS] or [
    pytest.param("", frozenset(), marks=NO_CORPUS)
]


def _sender(message: EmailMessage) -> str:
    """The From address the way a parse stage would extract it, '' when unusable."""
    try:
        addrs = message["From"].addresses if message["From"] else ()
        addr = str(addrs[0].addr_spec) if addrs else ""
    except Exception:
        return ""
    return "" if addr == "<>" else addr


def _classify_file(path: str) -> Verdict:
    message = mfs((CORPUS / path).read_bytes())
    return classify(message, _sender(message), IDENTITY)


@pytest.mark.parametrize(("path", "traits"), CASES)
def test_corpus_matches_manifest(path: str, traits: frozenset[str]) -> None:
    v = _classify_file(path)  # also: classify never raises on any corpus .eml
    if path in MANIFEST_EXCEPTIONS:
        pytest.skip(MANIFEST_EXCEPTIONS[path])
    wanted = [EXPECTED[t] for t in traits if t in EXPECTED]
    for allowed in wanted:
        assert v.kind in allowed, f"{path}: {traits & EXPECTED.keys()} but {v}"
    if not wanted:
        assert v.kind == STRICTER_THAN_MANIFEST.get(path, MailKind.NORMAL), f"{path}: {v}"


def test_every_corpus_eml_is_in_the_manifest() -> None:
    if not ROWS:
        pytest.skip(f"shared corpus not found: {CORPUS / 'MANIFEST.tsv'}")
    on_disk = {p.relative_to(CORPUS).as_posix() for p in (CORPUS / "eml").rglob("*.eml")}
    assert on_disk == {p for p, _ in ROWS}
