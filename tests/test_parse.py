import datetime as dt
import email.policy
import hashlib
from email.message import EmailMessage

from mailbot.parse import parse_mail, safe_filename
from tests.mails import make_mail


def test_fields_are_decoded():
    parsed = parse_mail(make_mail(Reply_To="Secrétariat <SECRETARIAT@ecole.example>",
                                  Cc="a@x.example, B <b@x.example>",
                                  References="<a@x> <b@y>", In_Reply_To="<b@y>"))
    assert parsed.message_id == "<q1@ecole-jules-ferry.example>"
    assert (parsed.from_name, parsed.from_addr) == (
        "Élodie Martin", "elodie.martin@ecole-jules-ferry.example")
    assert parsed.reply_to == "secretariat@ecole.example"
    assert parsed.cc == ["a@x.example", "b@x.example"]
    assert parsed.references == ["<a@x>", "<b@y>"] and parsed.in_reply_to == ["<b@y>"]
    assert parsed.date == dt.datetime(2026, 11, 23, 7, 12, tzinfo=dt.UTC)
    assert parsed.subject == "Les photos ne se synchronisent plus"
    assert "bloquée à 45 %" in parsed.text


def test_attachments_are_described_with_safe_names_and_hashes():
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "a@x.example"
    message.set_content("Voir pièce jointe.")
    photo = b"\xff\xd8\xff" + bytes(range(256)) * 10
    message.add_attachment(photo, maintype="image", subtype="jpeg",
                           filename="../../etc/Photo de Léa.jpg")
    message.add_attachment(b"x", maintype="application", subtype="pdf", filename="")
    parsed = parse_mail(message.as_bytes())
    first, second = parsed.attachments
    assert first.filename == "Photo de Léa.jpg"
    assert (first.content_type, first.size) == ("image/jpeg", len(photo))
    assert first.sha256 == hashlib.sha256(photo).hexdigest()
    assert second.filename == "attachment-2.pdf"


def test_safe_filename_strips_paths_controls_and_length():
    assert safe_filename("C:\\Users\\prof\\bulletin.pdf", "application/pdf", 1) == "bulletin.pdf"
    assert safe_filename("a\x00b\r\nc.txt", "text/plain", 1) == "a_b_c.txt"
    assert safe_filename("..", "image/png", 3) == "attachment-3.png"
    long = safe_filename("x" * 300 + ".jpeg", "image/jpeg", 1)
    assert len(long) <= 120 and long.endswith(".jpeg")


def test_undeclared_8bit_headers_do_not_vanish():
    raw = (b"From: prof@x.example\r\nSubject: Probl\xe8me \xe9t\xe9\r\n"
           b"Message-ID: <8bit@x>\r\n\r\nCorps\r\n")
    parsed = parse_mail(raw)
    assert parsed.subject.startswith("Probl") and parsed.subject.endswith("t\ufffd")
    assert len(parsed.subject) == len("Problème été")


def test_garbage_gives_defects_not_exceptions():
    for raw in (b"", b"\x00\x01\x02", b"Content-Type: multipart/mixed\r\n\r\nno boundary",
                b"From: <<<\r\nDate: not a date\r\nMessage-ID: \r\n\r\n"):
        parsed = parse_mail(raw)
        assert parsed.content_sha256 == hashlib.sha256(raw).hexdigest()
        assert parsed.date is None


def test_bom_and_blank_lines_before_headers_are_tolerated():
    parsed = parse_mail(b"\xef\xbb\xbf\r\n" + make_mail())
    assert parsed.from_addr == "elodie.martin@ecole-jules-ferry.example"
