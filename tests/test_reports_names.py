"""Student names in reports: unreadable list rows, folded matching, hashed scrubbing."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import pytest

from mailbot.parse import parse_mail
from mailbot.reports import Report, ReportSettings, extract_report
from mailbot.reports.names import Scrubber
from tests.reportmail import (
    CLASS,
    MALFORMED_NAMES,
    build_report_mail,
    pseudonymise,
)

HEADER = "id;nom;prenom;cree_le;derniere_activite;statut\n"
ROWS = [f"{i};{last};{first};2024-09-02;;actif\n" for i, last, first in CLASS]
CLASS_ROWS = "".join(ROWS)
KEVIN = "E-0007;Dupuis;Kévin;2024-09-02;;actif\n"
NEXT = "E-0008;Perrin;Lou;2024-09-02;;actif\n"
SUBJECT = "[e-carnet] Demande d'assistance : photos de Kévin Dupuis"
DESCRIPTION = "Les photos de Kévin Dupuis (DUPUIS Kevin) ne remontent plus depuis hier."


def extract(**options: Any) -> Report:
    return extract_report(parse_mail(build_report_mail(**options)), ReportSettings(),
                          pseudonymise)


def folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def assert_no_name(text: str, *names: str) -> None:
    for name in names:
        assert re.search(rf"(?<!\w){re.escape(folded(name))}(?!\w)", folded(text)) is None, \
            (name, text)


# --- 1. rows of eleves.csv that cannot be read still hide their names ---------------------

UNREADABLE = {
    # (eleves.csv, students_total, findings)
    "one field too many": (
        HEADER + CLASS_ROWS + "E-0007;Dupuis;Kévin;Noa;2024-09-02;;actif\n", 6,
        [("malformed_csv", "eleves.csv : 1 ligne ignorée (nombre de champs incorrect).",
          "eleves.csv, ligne 8")]),
    "one field too few": (
        HEADER + CLASS_ROWS + "E-0007;Dupuis;Kévin\n", 6,
        [("malformed_csv", "eleves.csv : 1 ligne ignorée (nombre de champs incorrect).",
          "eleves.csv, ligne 8")]),
    "stray leading quote mid-file": (
        HEADER + "".join(ROWS[:3]) + '"' + KEVIN + "".join(ROWS[3:]) + NEXT, 8,
        [("malformed_csv", "eleves.csv : 5 lignes relues sans tenir compte des guillemets "
          "(guillemet non fermé ou champ trop long).", "eleves.csv, lignes 5, 6, 7…")]),
    "field over 128 KiB": (
        HEADER + CLASS_ROWS + KEVIN.replace(";;", ";" + "x" * 200_000 + ";") + NEXT, 7,
        [("malformed_csv", "eleves.csv : 1 ligne relue sans tenir compte des guillemets "
          "(guillemet non fermé ou champ trop long).", "eleves.csv, ligne 8"),
         ("malformed_csv", "eleves.csv : 1 ligne ignorée (champ de plus de 128 Ko).",
          "eleves.csv, ligne 8")]),
}


@pytest.mark.parametrize("case", UNREADABLE)
def test_names_of_unreadable_rows_are_scrubbed(case: str) -> None:
    eleves, total, findings = UNREADABLE[case]
    report = extract(eleves_bytes=eleves.encode(), subject=SUBJECT, description=DESCRIPTION,
                     json_changes={"usage": {"students": total}})
    assert_no_name(report.scrub(SUBJECT), "Kévin", "Dupuis")
    exported = json.dumps(report.to_json(), ensure_ascii=False)
    assert_no_name(exported, "Kévin", "Dupuis", "Noa")
    assert "[ELV-" in report.to_json()["user_context"]["description"]
    # the names serve the scrubber only: counts and findings as for any bad row
    assert report.students_total == total
    assert [(f.code, f.message, f.where) for f in report.findings if f.code not in (
        "orphan_media", "student_without_media")] == findings


def test_unreadable_rows_hide_names_when_consent_is_refused() -> None:
    eleves = HEADER + CLASS_ROWS + "E-0007;Dupuis;Kévin;Noa;2024-09-02;;actif\n"
    report = extract(consent=False, attach_lists=True, eleves_bytes=eleves.encode(),
                     description=DESCRIPTION)
    assert report.finding_codes() == ["consent_refused"]
    assert_no_name(json.dumps(report.to_json(), ensure_ascii=False), "Kévin", "Dupuis")


def test_builder_malformed_row_names_are_scrubbed() -> None:
    text = "Anne-Sophie Marchetti et MARCHETTI Anne sont absentes."
    report = extract(malformed_csv=True, description=text, subject=text)
    assert_no_name(json.dumps(report.to_json(), ensure_ascii=False), *MALFORMED_NAMES)
    assert_no_name(report.scrub(text), *MALFORMED_NAMES)


def test_status_words_of_unreadable_rows_are_not_taken_for_names() -> None:
    eleves = HEADER + CLASS_ROWS + "E-0007;Dupuis;Kévin;Noa;2024-09-02;;actif\n"
    report = extract(eleves_bytes=eleves.encode())
    assert report.scrub("compte actif, statut inactif") == "compte actif, statut inactif"


# --- 2. names match folded: accents, case, apostrophes, hyphens, particles -----------------

def folding_scrubber() -> Scrubber:
    scrubber = Scrubber()
    scrubber.add("Émilie", "Dupont-Lagarde", "ELV-EMI")
    scrubber.add("Kévin", "N'Guessan", "ELV-KEV")
    scrubber.add("Zoé", "Lefèvre", "ELV-ZOE")
    scrubber.add("Anaëlle", "de La Fontaine", "ELV-ANA")
    scrubber.add("Rose", "Pierre", "ELV-ROS")
    scrubber.add("Lina", "Le", "ELV-LIN")
    return scrubber


@pytest.mark.parametrize(("text", "expected"), [
    ("Émilie Dupont Lagarde", "[ELV-EMI]"),
    ("Emilie DUPONT-LAGARDE, Dupont, lagarde", "[ELV-EMI], [ELV-EMI], [ELV-EMI]"),
    ("Kevin NGuessan", "[ELV-KEV]"),
    ("N’Guessan Kévin, N. Guessan, nguessan", "[ELV-KEV], [ELV-KEV], [ELV-KEV]"),
    ("Zoe Lefevre", "[ELV-ZOE]"),
    ("Anaëlle La Fontaine", "[ELV-ANA]"),
    ("anaelle de la fontaine, Fontaine", "[ELV-ANA], [ELV-ANA]"),
    ("Rose et Pierre", "[ELV-ROS] et [ELV-ROS]"),  # ordinary words that are names: replaced
    ("Lina Le", "[ELV-LIN]"),
])
def test_folded_name_matching(text: str, expected: str) -> None:
    assert folding_scrubber().scrub(text) == expected


@pytest.mark.parametrize("text", [
    "Il est venu de la part de la directrice, le matin, avec le dossier du CE2.",
    "La, le, de, des, du, d'un, l'an, van, von, da, di.",
    "Lagardère, Dupontel, Lefèvres, Kevinou, Fontainebleau.",  # whole words only
])
def test_particles_and_other_words_are_never_eaten(text: str) -> None:
    assert folding_scrubber().scrub(text) == text


def test_folded_names_end_to_end() -> None:
    eleves = (HEADER + "E-0001;Dupont-Lagarde;Émilie;2024-09-02;;actif\n"
              "E-0002;N'Guessan;Kévin;2024-09-02;;actif\n"
              "E-0003;Lefèvre;Zoé;2024-09-02;;actif\n"
              "E-0004;de La Fontaine;Anaëlle;2024-09-02;;actif\n")
    text = "Émilie Dupont Lagarde, Kevin NGuessan, Zoe Lefevre et Anaëlle La Fontaine."
    report = extract(eleves_bytes=eleves.encode(), description=text)
    p = [pseudonymise(f"E-000{i}") for i in range(1, 5)]
    assert report.to_json()["user_context"]["description"] == \
        f"[{p[0]}], [{p[1]}], [{p[2]}] et [{p[3]}]."


# --- 3. hashed name forms scrub later messages ------------------------------------------------

def test_name_digests_scrub_a_later_message_without_holding_names() -> None:
    from mailbot.reports import scrub_with_digests

    eleves = HEADER + CLASS_ROWS + "E-0007;N'Guessan;Kévin;2024-09-02;;actif\n"
    report = extract(eleves_bytes=eleves.encode())
    key = b"k" * 32
    digests = report.name_digests(key)
    later = "Bonjour, Kevin NGuessan et Lea Fontaine n'ont toujours pas leurs photos (CE2)."
    scrubbed = scrub_with_digests(later, digests, key)
    assert scrubbed == (f"Bonjour, [{pseudonymise('E-0007')}] et [{pseudonymise('E-0001')}] "
                        "n'ont toujours pas leurs photos (CE2).")
    assert scrubbed == report.scrub(later)
    # keys are hex digests, values labels: no name in the table
    assert all(re.fullmatch(r"[0-9a-f]{64}", k) for k in digests)
    assert all(re.fullmatch(r"\[ELV-[A-Z0-9]+(\|ELV-[A-Z0-9]+)*(\|…)?\]", v)
               for v in digests.values())
    every_name = [w for _, last, first in CLASS for w in (last, first)] + ["Kévin", "Guessan"]
    assert_no_name(json.dumps(digests, ensure_ascii=False), *every_name)
    # another key finds nothing; no digests, nothing to do
    assert scrub_with_digests(later, digests, b"other key") == later
    assert scrub_with_digests(later, {}, key) == later
