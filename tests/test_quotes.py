"""Reply extraction (mailbot.quotes) on the French/English fixtures and talon's replies."""

from __future__ import annotations

import csv
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbot.quotes import extract_reply
from mailbot.textbody import body_text

DATA = Path(__file__).parent / "data" / "replies-fr"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _cases() -> list[str]:
    with (DATA / "cases.tsv").open(encoding="utf-8", newline="") as handle:
        return [row["name"] for row in csv.DictReader(handle, delimiter="\t")]


CASES = _cases()


def _load(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _words(text: str) -> str:
    return " ".join(text.split())


def test_every_fixture_is_listed():
    assert len(CASES) == 30
    assert sorted(CASES) == sorted(p.name.removesuffix(".eml") for p in DATA.glob("*.eml"))


@pytest.mark.parametrize("name", CASES, ids=CASES)
def test_reply_fixture(name: str):
    text, _ = body_text(_load(DATA / f"{name}.eml"))
    expected = (DATA / f"{name}.expected.txt").read_text(encoding="utf-8")
    assert _words(extract_reply(text)) == _words(expected)


@pytest.mark.parametrize("name", CASES, ids=CASES)
def test_reply_is_tidy(name: str):
    reply = extract_reply(body_text(_load(DATA / f"{name}.eml"))[0])
    assert reply == reply.strip()
    assert all(line == line.rstrip() for line in reply.split("\n"))
    assert "\n\n\n" not in reply


def _talon_expected(name: str) -> str:
    """talon keeps the signature and the device line; mailbot drops them, so the expected
    reply is talon's cut at its first ``-- `` or ``Sent from my`` line."""
    path = CORPUS / "replies" / "talon" / "standard_replies" / f"{name}_reply_text"
    kept: list[str] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.rstrip() == "--" or line.startswith("Sent from my"):
            break
        kept.append(line)
    return "\n".join(kept)


@pytest.mark.parametrize("name", ["iphone", "sparrow"])
def test_talon_standard_replies(name: str):
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    text, _ = body_text(_load(CORPUS / "eml" / "talon" / f"{name}.eml"))
    reply = extract_reply(text)
    assert _words(reply) == _words(_talon_expected(name))
    assert reply.strip()


def test_text_without_quote_is_only_tidied():
    text = "\n\n  Bonjour,   \r\n\r\n\r\nLe portfolio ne s'ouvre plus.\t\n\n"
    assert extract_reply(text) == "  Bonjour,\n\nLe portfolio ne s'ouvre plus."


def test_body_lines_that_look_like_headers_are_kept():
    text = (
        "Le conseil d'école se réunit le 18 mars à 18 h :\n"
        "- point 1 : les licences\n"
        "- point 2 : les tablettes\n"
        "Le directeur m'a écrit :\n"
        "il faut renouveler avant le 31 mars.\n"
        "Date : 18 mars\n"
        "Objet : renouvellement"
    )
    assert extract_reply(text) == text


def test_dateless_attribution_counts_only_above_a_quote():
    text = "Merci !\n\nSupport e-carnet a écrit :\n> Bonjour,\n> Voici la procédure."
    assert extract_reply(text) == "Merci !"


def test_dated_attribution_without_quote_marks_ends_the_reply():
    text = (
        "Toujours rien reçu.\n\n"
        "Le 10/03/2025 à 14:05, Support e-carnet <support@ecarnet.example> a écrit :\n\n"
        " Bonjour Madame,\n Vérifiez vos spams."
    )
    assert extract_reply(text) == "Toujours rien reçu."


def test_interleaved_answers_keep_their_order():
    text = (
        "On 06/03/2025 09:30, Support wrote:\n"
        "> 1. Which version?\n"
        "2.2.4\n"
        "> 2. Which tablet?\n\n"
        "iPad 9\n"
        "> Regards\n"
        "Thanks,\nClaire\n-- \nClaire Garnier\nTeacher"
    )
    assert extract_reply(text) == "2.2.4\n\niPad 9\n\nThanks,\nClaire"


def test_outlook_block_with_nbsp_and_wrapped_from():
    text = (
        "Voici le devis signé.\n\n"
        "________________________________\n"
        "De\u00a0: Service commercial\n<commercial@ecarnet.example>\n"
        "Envoyé\u00a0: lundi 3 mars 2025 09:00\n"
        "Objet\u00a0: Devis\n\n"
        "Bonjour,\nCi-joint le devis."
    )
    assert extract_reply(text) == "Voici le devis signé."


def test_forward_keeps_only_the_note():
    text = (
        "Pour info.\n\n"
        "-------- Message transféré --------\n"
        "Sujet : Panne\nDate : lun. 3 mars 2025\nDe : parent@example.fr\n\n"
        "Bonjour, plus rien ne marche."
    )
    assert extract_reply(text) == "Pour info."


def test_device_line_needs_to_stand_alone():
    text = "Envoyé de mon iPhone. Je vous rappelle demain pour la connexion des parents."
    assert extract_reply(text) == text
    assert extract_reply("Merci\n\nEnvoyé de mon iPhone\n") == "Merci"


def test_hostile_input_does_not_raise():
    for text in ("", "\x00\ufeff", ">" * 10_000, "On " + "1 " * 5_000 + "wrote:", "-- \n" * 50):
        assert isinstance(extract_reply(text), str)
