"""[limits]: odd or hostile mail is read best-effort, becomes a ticket, never crashes, never hangs.

The adversarial mails (10,000-deep nesting, a 5 MB header, 10,000 attachments, zip and
gzip bombs ...) run through the whole pipeline in a child process under a generous
timeout: a hang fails the test with the name of the mail, and the times are printed
(``pytest -s``), never asserted.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbot.config import Config, LimitsConfig
from mailbot.limits import MIME_HEADER_BYTES, defect_note
from mailbot.parse import parse_mail
from mailbot.service import Service
from mailbot.store.models import TicketEvent
from tests.helpers import deliver, incoming, local_config, outbox, rows, tickets
from tests.mails import make_mail

ROOT = Path(__file__).resolve().parents[1]
HEAD = (b"From: Jean Martin <jean.martin@ecole.example>\r\nTo: support@ecarnet.example\r\n"
        b"Subject: %s\r\nMessage-ID: <%s@ecole.example>\r\nDate: Mon, 23 Nov 2026 08:12:00 +0100"
        b"\r\nMIME-Version: 1.0\r\n")
TEXT = b"Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour, l'application plante.\r\n"


def head(subject: bytes = b"Question", msgid: bytes = b"q") -> bytes:
    return HEAD % (subject, msgid)


def nested(depth: int, msgid: bytes = b"deep", bottom: bytes = TEXT) -> bytes:
    """A text part at the bottom of *depth* nested multipart/mixed parts."""
    opening = [b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
               for i in range(depth)]
    closing = [b"\r\n--b%d--\r\n" % i for i in reversed(range(depth))]
    return head(b"Imbrication", msgid) + b"".join(opening) + bottom + b"".join(closing)


def with_attachments(count: int, msgid: bytes = b"many", extra: bytes = b"") -> bytes:
    parts = [b'--B\r\nContent-Type: application/pdf; name="p%d.pdf"%s\r\n'
             b'Content-Disposition: attachment; filename="p%d.pdf"%s\r\n'
             b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" % (i, extra, i, extra)
             for i in range(count)]
    return (head(b"Pieces jointes", msgid) + b'Content-Type: multipart/mixed; boundary="B"\r\n'
            b"\r\n--B\r\n" + TEXT + b"".join(parts) + b"--B--\r\n")


def with_file(name: str, ctype: str, data: bytes, msgid: bytes) -> bytes:
    body = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return (head(b"Fichier", msgid) + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
            b"--B\r\n" + TEXT + b"--B\r\nContent-Type: %s\r\n"
            b'Content-Disposition: attachment; filename="%s"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n" % (ctype.encode(), name.encode())
            + body + b"--B--\r\n")


# --- parse_mail within the limits ------------------------------------------------------------


def test_defaults_are_safe_and_configurable():
    limits = Config().limits
    assert (limits.max_mime_depth, limits.max_attachments) == (32, 100)
    assert (limits.max_header_bytes, limits.max_text_bytes) == (65536, 1024 * 1024)
    with pytest.raises(ValueError):
        LimitsConfig(max_mime_depth=1)


def test_ordinary_mail_has_no_limit_defects():
    parsed = parse_mail(make_mail())
    assert parsed.defects == []


def test_deep_nesting_is_cut_at_the_configured_depth():
    parsed = parse_mail(nested(10_000))
    assert "MIME parts nested deeper than 32 levels: 1 container(s) kept unopened as " \
           "attachments ([limits] max_mime_depth)" in parsed.defects
    assert parsed.from_addr == "jean.martin@ecole.example" and parsed.subject == "Imbrication"
    assert max(_levels(parsed.message)) == 32
    deepest = parsed.message
    while deepest.is_multipart():
        [deepest] = deepest.get_payload()
    assert deepest.get_content_type() == "application/octet-stream"  # the rest, unopened
    assert deepest.get_payload().count("--b9999--") == 1
    assert len(parsed.attachments) == 1  # the nested structure, as one attachment


def test_nesting_within_the_limit_is_read_whole():
    parsed = parse_mail(nested(20))
    assert parsed.text.strip() == "Bonjour, l'application plante."
    assert max(_levels(parsed.message)) == 21 and parsed.defects == []


def test_a_smaller_depth_limit_keeps_the_deep_text_as_an_attachment():
    parsed = parse_mail(nested(5), LimitsConfig(max_mime_depth=3))
    assert parsed.text == "" and len(parsed.attachments) == 1
    assert any("deeper than 3 levels" in d for d in parsed.defects)


def _levels(message, level=1):
    yield level
    if message.is_multipart():
        for part in message.get_payload():
            yield from _levels(part, level + 1)


def test_ten_thousand_attachments_are_bounded():
    parsed = parse_mail(with_attachments(10_000))
    assert len(parsed.attachments) == 100
    assert parsed.text.strip() == "Bonjour, l'application plante."
    assert "10,001 MIME parts: only the first 120 read ([limits] max_attachments)" \
        in parsed.defects
    assert "119 attachments: only the first 100 listed ([limits] max_attachments)" \
        in parsed.defects


def test_attachment_limit_is_configurable():
    parsed = parse_mail(with_attachments(10), LimitsConfig(max_attachments=3))
    assert [a.filename for a in parsed.attachments] == ["p0.pdf", "p1.pdf", "p2.pdf"]
    assert "10 attachments: only the first 3 listed ([limits] max_attachments)" in parsed.defects


@pytest.mark.parametrize("folded", [False, True])
def test_a_5_mb_header_is_cut_in_the_middle(folded):
    filler = b"mot\r\n " * 1_000_000 if folded else b"x" * 5_000_000
    raw = head(b"Debut " + filler + b" fin", b"big") + TEXT
    parsed = parse_mail(raw)
    assert parsed.subject.startswith("Debut") and parsed.subject.endswith("fin")
    assert len(parsed.subject) <= 65536
    [defect] = [d for d in parsed.defects if d.startswith("header Subject")]
    assert "cut in the middle" in defect and "[limits] max_header_bytes" in defect
    assert parsed.text.strip() == "Bonjour, l'application plante."


def test_a_huge_header_name_does_not_make_a_huge_defect():
    raw = head(b"x", b"name") + b"X-" + b"A" * 5_000_000 + b": " + b"v" * 100_000 + b"\r\n" + TEXT
    parsed = parse_mail(raw)
    [defect] = parsed.defects
    assert len(defect) < 200 and "cut in the middle" in defect
    assert len(defect_note(["y" * 10_000])) < 250


def test_a_cut_references_header_keeps_the_latest_parent():
    noise = " ".join(f"<n{i}@spam.example>" for i in range(20_000)).encode()
    raw = head(b"Re: Question", b"r") + b"References: " + noise + b" <parent@x.example>\r\n" + TEXT
    parsed = parse_mail(raw)
    assert parsed.references[0] == "<n0@spam.example>"  # the thread's root
    assert parsed.references[-1] == "<parent@x.example>"  # and the latest parent


def test_mime_headers_of_parts_are_kept_short_and_their_parameters_few():
    junk = b";\r\n a=b" * 20_000
    parsed = parse_mail(with_attachments(3, extra=junk))
    assert [a.filename for a in parsed.attachments] == ["p0.pdf", "p1.pdf", "p2.pdf"]
    assert any(d.startswith("header Content-Type: 3 values over "
                            f"{MIME_HEADER_BYTES:,} bytes") for d in parsed.defects)
    assert "header Content-Disposition: parameters past the first 64 dropped (3 values)" \
        in parsed.defects


def test_a_long_boundary_within_the_mime_header_limit_still_works():
    boundary = b"b" * 6000
    raw = (head(b"Frontiere", b"lb") + b'Content-Type: multipart/mixed; boundary="' + boundary
           + b'"\r\n\r\n--' + boundary + b"\r\n" + TEXT + b"--" + boundary + b"--\r\n")
    parsed = parse_mail(raw)
    assert parsed.text.strip() == "Bonjour, l'application plante." and parsed.defects == []


def test_a_huge_body_is_read_up_to_the_text_limit():
    line = "Une ligne de texte assez longue pour remplir le corps. é\r\n".encode()
    raw = head(b"Long", b"long") + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" \
        + line * 100_000
    parsed = parse_mail(raw, LimitsConfig(max_text_bytes=100_000))
    assert "text body of 5,900,000 bytes: only the first 100,000 read " \
           "([limits] max_text_bytes)" in parsed.defects
    assert len(parsed.text) < 100_000 and parsed.text.endswith("é\n")  # cut at a line end
    assert "\ufffd" not in parsed.text


def test_broken_base64_is_read_leniently_with_a_defect():
    raw = (head(b"Base64", b"b64") + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n'
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"Qm9uam91ciwgbCdhcHBs!!aWNhdGlvbiBwbGFudGU=\r\n--B\r\n"
           b'Content-Type: image/png\r\nContent-Disposition: attachment; filename="a.png"\r\n'
           b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo\r\n--B--\r\n")
    parsed = parse_mail(raw)
    assert parsed.text.startswith("Bonjour, l'appl")
    assert [a.filename for a in parsed.attachments] == ["a.png"]
    assert any(d.startswith("MIME: broken base64") for d in parsed.defects)


def test_unknown_charset_is_decoded_with_a_defect():
    raw = (head(b"Charset", b"cs")
           + b"Content-Type: text/plain; charset=x-martian\r\n\r\ncr\xc3\xa8me\r\n")
    parsed = parse_mail(raw)
    assert parsed.text.strip() == "crème"
    assert "unknown charset 'x-martian'; decoded as utf-8/cp1252" in parsed.defects


@pytest.mark.parametrize(("header", "value"), [
    ("Sender", "Jean Martin <jean.martin@ecole.example>"),
    ("Reply-To", "jean.martin@ecole.example"),
    ("Return-Path", "<jean.martin@ecole.example>"),
])
def test_a_mail_without_from_takes_its_sender_from_other_headers(header, value):
    raw = (f"{header}: {value}\r\nTo: support@ecarnet.example\r\nSubject: Sans expediteur\r\n"
           "Message-ID: <nf@ecole.example>\r\n").encode() + TEXT
    parsed = parse_mail(raw)
    assert parsed.from_addr == "jean.martin@ecole.example"
    assert f"no usable From address: sender taken from {header}" in parsed.defects


def test_a_mail_with_no_address_at_all_says_so():
    parsed = parse_mail(b"Subject: personne\r\n\r\nx\r\n")
    assert parsed.from_addr == ""
    assert "no sender address in From, Sender, Reply-To or Return-Path" in parsed.defects


def test_defect_note_is_one_readable_paragraph():
    assert defect_note([]) == ""
    note = defect_note(["a", "b", "a"] + [f"d{i}" for i in range(30)], limit=3)
    assert note == "odd mail, read best-effort: a; b; d0; and 29 more"


# --- odd mail through the pipeline: a ticket, not a quarantine --------------------------------

ODD_MAILS: dict[str, bytes] = {
    "no From, Return-Path": (b"Return-Path: <jean.martin@ecole.example>\r\nTo: support@ecarnet."
                             b"example\r\nSubject: Sans From\r\nMessage-ID: <o1@ecole.example>\r\n"
                             + TEXT),
    "unknown charset": head(b"Charset", b"o2") + b"Content-Type: text/plain; charset=x-martian"
                                                  b"\r\n\r\nBonjour, cr\xc3\xa8me.\r\n",
    "broken base64": head(b"Base64", b"o3") + b"Content-Type: text/plain\r\n"
                                              b"Content-Transfer-Encoding: base64\r\n\r\n"
                                              b"Qm9uam91ciBs!!YXBwbGk=\r\n",
    "deep MIME": nested(100, b"o4"),
    "huge header": head(b"Gros en-tete " + b"x" * 200_000, b"o5") + TEXT,
    "too many attachments": with_attachments(500, b"o6"),
}


@pytest.mark.parametrize("name", ODD_MAILS)
def test_odd_mail_becomes_a_ticket_with_its_acknowledgement(tmp_path, name):
    config = local_config(tmp_path)
    service = Service.from_config(config)
    deliver(config.source.maildir.path, ODD_MAILS[name], "1")
    assert service.poll().counts == {"new_ticket": 1}
    [ticket] = tickets(service)
    assert ticket.requester == "jean.martin@ecole.example"
    assert [e.rcpt_to for e in outbox(service)] == ["jean.martin@ecole.example"]
    assert parse_mail(ODD_MAILS[name], config.limits).defects


def test_the_defects_are_recorded_where_support_sees_them(tmp_path):
    config = local_config(tmp_path)
    service = Service.from_config(config)
    deliver(config.source.maildir.path, ODD_MAILS["deep MIME"], "1")
    service.poll()
    [row] = incoming(service)
    assert row.outcome == "new_ticket"
    assert "odd mail, read best-effort" in row.outcome_detail
    assert "max_mime_depth" in row.outcome_detail
    [event] = [e for e in rows(service, TicketEvent) if e.kind == "mail_defects"]
    assert event.detail == row.outcome_detail and event.message_row_id == row.id


# --- adversarial mail: whole pipeline, child process, generous timeout -----------------------

def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with (zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
          archive.open("zeros.bin", "w", force_zip64=True) as member):
        block = bytes(1 << 20)
        for _ in range(256):  # 256 MB of zeros, about 250 kB zipped
            member.write(block)
    return with_file("photos.zip", "application/zip", buffer.getvalue(), b"zip")


def _gzip_bomb_attachment() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    data = b"".join(packer.compress(block) for _ in range(256)) + packer.flush()
    return with_file("journal.log.gz", "application/gzip", data, b"gz")


def _gzip_bomb_report() -> bytes:
    from tests import reportmail

    return reportmail.build_report_mail(gzip_bomb=True)


def _html_body(size: int) -> bytes:
    return (head(b"HTML", b"html") + b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>"
            + b"<p><b>Bonjour</b> le support</p>\r\n" * (size // 36) + b"</body></html>\r\n")


ADVERSARIES: dict[str, Callable[[], bytes]] = {
    "10,000-deep nested multipart": lambda: nested(10_000, b"adv-deep"),
    "10,000-deep nesting over a 5 MB body": lambda: nested(
        10_000, b"adv-deep-body",
        b"Content-Type: text/plain\r\n\r\n" + b"ligne de texte du message\r\n" * 200_000),
    "5 MB Subject on one line": lambda: head(b"x" * 5_000_000, b"adv-h1") + TEXT,
    "5 MB Subject folded in 1,000,000 lines": lambda: head(b"mot\r\n " * 1_000_000,
                                                           b"adv-h2") + TEXT,
    "10,000 attachments": lambda: with_attachments(10_000, b"adv-att"),
    "attachments with 14 kB parameter lists": lambda: with_attachments(
        150, b"adv-params", b";\r\n a=b" * 2_000),
    "zip bomb (256 MB of zeros) attached": _zip_bomb,
    "gzip bomb (256 MB of zeros) attached": _gzip_bomb_attachment,
    "e-carnet report with a gzip bomb journal": _gzip_bomb_report,
    "4 MB of HTML": lambda: _html_body(4_000_000),
}
GUARD_SECONDS = 600  # for all of them; each takes a few seconds at most


def run_adversaries(workdir: str) -> None:
    """In the child process: each mail through a poll; one JSON line per step."""
    service = Service.from_config(local_config(Path(workdir)))
    inbox = service.config.source.maildir.path
    for number, (name, build) in enumerate(ADVERSARIES.items()):
        raw = build()
        print(json.dumps({"start": name}), flush=True)
        started = time.perf_counter()
        deliver(inbox, raw, f"{number:03d}")
        [result] = service.poll().results
        seconds = time.perf_counter() - started
        defects = parse_mail(raw, service.config.limits).defects
        print(json.dumps({"case": name, "bytes": len(raw), "seconds": round(seconds, 2),
                          "outcome": result.outcome.value if result.outcome else None,
                          "reason": result.reason, "defects": defects}), flush=True)


def test_adversarial_mail_never_crashes_and_never_hangs(tmp_path):
    command = [sys.executable, "-c",
               f"from tests.test_limits import run_adversaries; run_adversaries({str(tmp_path)!r})"]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=GUARD_SECONDS)
    except subprocess.TimeoutExpired as exc:
        lines = [json.loads(line) for line in (exc.stdout or b"").decode().splitlines()]
        started = [line["start"] for line in lines if "start" in line]
        pytest.fail(f"no answer after {GUARD_SECONDS} s, working on: "
                    f"{started[-1] if started else '(start-up)'}")
    output = done.stdout.decode()
    assert done.returncode == 0, output + done.stderr.decode()[-3000:]
    results = {r["case"]: r for r in map(json.loads, output.splitlines()) if "case" in r}
    print("\nadversarial mail through the pipeline:")
    for name, r in results.items():
        print(f"  {name:<45} {r['bytes']:>11,} B  {r['seconds']:>6.2f} s  {r['outcome']}")
    assert list(results) == list(ADVERSARIES)
    assert {name: r["outcome"] for name, r in results.items()} == dict.fromkeys(
        ADVERSARIES, "new_ticket")
    limit_defects = {name: " ".join(r["defects"]) for name, r in results.items()}
    for name in ("10,000-deep nested multipart", "10,000-deep nesting over a 5 MB body"):
        assert "[limits] max_mime_depth" in limit_defects[name]
    for name in ("5 MB Subject on one line", "5 MB Subject folded in 1,000,000 lines"):
        assert "header Subject" in limit_defects[name]
    assert "[limits] max_attachments" in limit_defects["10,000 attachments"]
    assert "[limits] max_text_bytes" in limit_defects["4 MB of HTML"]
    assert "parameters past the first 64 dropped" in limit_defects[
        "attachments with 14 kB parameter lists"]


def test_bombs_are_described_never_inflated():
    parsed = parse_mail(_zip_bomb())
    [bomb] = parsed.attachments
    assert bomb.filename == "photos.zip" and bomb.size < 1_000_000  # its zipped size


def test_message_built_by_the_stdlib_round_trips_through_the_limits():
    message = EmailMessage()
    message["From"], message["Subject"] = "a@b.example", "x"
    message.set_content("Bonjour")
    message.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="a.pdf")
    parsed = parse_mail(message.as_bytes())
    assert parsed.text.strip() == "Bonjour" and [a.size for a in parsed.attachments] == [4]
    assert parsed.message.get_content_type() == "multipart/mixed"
    parsed.message.add_attachment(b"x", maintype="application", subtype="octet-stream")
    assert len(list(parsed.message.iter_attachments())) == 2  # a normal message after parsing
