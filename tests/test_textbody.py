"""Body choice and decoding (mailbot.textbody): charsets, HTML, format=flowed, robustness."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbot.quotes import extract_reply
from mailbot.textbody import body_text, decode_part, html_to_text, unflow

DATA = Path(__file__).parent / "data" / "replies-fr"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def mail(content_type: str, body: bytes, cte: str = "8bit") -> EmailMessage:
    head = (
        "From: Parent <parent@example.test>\r\nTo: support@ecarnet.example\r\n"
        f"Subject: Test\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
        f"Content-Transfer-Encoding: {cte}\r\n\r\n"
    )
    return parse(head.encode("ascii") + body)


def test_latin1_label_is_decoded_as_cp1252():
    message = parse((DATA / "fr_outlook_plaintext_cp1252.eml").read_bytes())
    text, defects = body_text(message)
    assert "l’engager" in text and "5 940 € TTC" in text
    assert "\x92" not in text and "\x80" not in text
    assert defects == []


def test_synthetic_iso_8859_1_with_cp1252_bytes():
    text, _ = body_text(mail("text/plain; charset=iso-8859-1", b"C\x92est 12 \x80, cr\xe8me\r\n"))
    assert text == "C’est 12 €, crème\n"


def test_unknown_charset_falls_back_and_records_a_defect():
    message = mail("text/plain; charset=x-unknown-charset", "Café crème\r\n".encode())
    with pytest.raises(LookupError):
        message.get_content()  # what the fallback is for
    text, defects = body_text(message)
    assert text == "Café crème\n"
    assert any("x-unknown-charset" in defect for defect in defects)


def test_unknown_charset_with_non_utf8_bytes_uses_cp1252():
    text, defects = body_text(mail("text/plain; charset=invalid-charset", b"cr\xe8me \x80\r\n"))
    assert text == "crème €\n"
    assert defects


def test_broken_multipart_boundary_does_not_raise():
    message = mail(
        'multipart/alternative; boundary="announced"',
        b"--actual\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Bonjour, le texte est l\xc3\xa0.\r\n--actual--\r\n",
    )
    with pytest.raises(KeyError):
        message.get_content()  # the stdlib failure being guarded against
    text, defects = body_text(message)
    assert "Bonjour, le texte est là." in text
    assert any("boundary" in defect for defect in defects)


def test_html_only_gives_readable_text():
    text, defects = body_text(parse((DATA / "fr_outlook_html_only.eml").read_bytes()))
    assert text.startswith("Bonjour,\n")
    assert "Faut-il le convertir dans un autre format\u00a0?" in text
    for clutter in ("<p", "MsoNormal", "**", "&nbsp;", "{margin"):
        assert clutter not in text
    assert defects == []


def test_html_conversion_has_no_markdown_clutter():
    html = (
        "<html><body><p>Voir <a href='https://aide.ecarnet.example/guide'>le guide</a>"
        "<img src='cid:logo' alt='logo'> et <b>vite</b>.</p>"
        "<p>1. Ouvrir les réglages</p><p>- puis Stockage</p><p>"
        + "mot " * 60
        + "</p></body></html>"
    )
    text = html_to_text(html)
    assert "Voir le guide et vite." in text
    assert "1. Ouvrir les réglages" in text and "- puis Stockage" in text
    for clutter in ("](", "![", "https://", "**", "\\"):
        assert clutter not in text
    assert ("mot " * 60).strip() in text  # no hard wrapping


def test_blank_plain_part_falls_back_to_html():
    message = EmailMessage()
    message.set_content("  \n")
    message.add_alternative("<p>Le vrai texte.</p>", subtype="html")
    assert body_text(message)[0] == "Le vrai texte."


def test_flowed_text_is_joined():
    body = (
        b"Une phrase longue \r\ncoup\xc3\xa9e en deux.\r\n"
        b" From stuffed\r\n"
        b"> cit\xc3\xa9 \r\n> suite\r\n"
        b"-- \r\nSignature\r\n"
    )
    text, _ = body_text(mail("text/plain; charset=utf-8; format=flowed", body))
    assert text == "Une phrase longue coupée en deux.\nFrom stuffed\n> cité suite\n-- \nSignature\n"


def test_flowed_delsp_removes_the_soft_space():
    assert unflow("Motlong \ncoupé\n", delsp=True) == "Motlongcoupé\n"
    assert unflow("Motlong \ncoupé\n") == "Motlong coupé\n"


def test_flowed_fixture_keeps_logical_lines():
    text, _ = body_text(parse((DATA / "fr_thunderbird_bottom_flowed.eml").read_bytes()))
    assert "dans Réglages > Évaluation je ne vois que les couleurs" in text
    assert "\n-- \n" in text  # the signature separator is never joined


@pytest.mark.parametrize("path", sorted(DATA.glob("*.eml")), ids=lambda p: p.stem)
def test_line_endings_are_normalised(path: Path):
    text, _ = body_text(parse(path.read_bytes()))
    assert "\r" not in text and text.strip()


def test_decode_part_is_usable_on_its_own():
    message = mail("text/plain; charset=latin1", b"d\xe9j\xe0 \x93vu\x94\r\n", cte="8bit")
    assert decode_part(message) == "déjà “vu”\n"
    assert decode_part(EmailMessage()) == ""


def test_body_text_never_raises():
    class Hostile(EmailMessage):
        def get_body(self, preferencelist=("related", "html", "plain")):
            raise RuntimeError("boom")

    text, defects = body_text(Hostile())
    assert text == "" and any("boom" in defect for defect in defects)
    assert body_text(parse(b""))[0] == ""
    assert isinstance(body_text(parse(b"\xff\xfe garbage \x00 without headers"))[0], str)


def test_corpus_messages_never_raise():
    """body_text + extract_reply over every real-world message of the shared corpus."""
    root = CORPUS / "eml"
    if not root.is_dir():
        pytest.skip(f"shared corpus not found at {root} (expected ../shared beside the repo)")
    paths = sorted(path for path in root.rglob("*") if path.is_file())
    assert paths
    failures = []
    for path in paths:
        try:
            text, defects = body_text(parse(path.read_bytes()))
            reply = extract_reply(text)
            assert isinstance(text, str) and isinstance(reply, str)
            assert all(isinstance(defect, str) for defect in defects)
        except Exception as exc:
            failures.append(f"{path.relative_to(root)}: {type(exc).__name__}: {exc}")
    assert failures == []
