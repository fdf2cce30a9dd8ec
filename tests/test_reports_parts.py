"""e-carnet reports, piece by piece: numbers, labels, names, schema, tables, journal, garbage."""

from __future__ import annotations

import gzip
import json
import random
import tracemalloc
from email.message import EmailMessage

import pytest

import mailbot.reports
from mailbot.parse import parse_mail
from mailbot.reports import ReportSettings, extract_report, is_report
from mailbot.reports.journal import read_journal
from mailbot.reports.labels import label_values, read_body, split_os
from mailbot.reports.names import Scrubber
from mailbot.reports.numbers import format_mb, format_percent, parse_size, version_tuple
from mailbot.reports.schema import load
from mailbot.reports.tables import read_media, read_students
from tests.reportmail import build_report_mail, gzip_bomb, pseudonymise


def test_exported_members() -> None:
    assert mailbot.reports.__all__ == [
        "Finding", "MediaTotals", "Report", "ReportSettings", "StudentSummary", "UserContext",
        "extract_report", "is_report", "scrub_with_digests"]


# --- numbers ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "mb"), [
    ("1,2 Go", 1228), ("412 Mo", 412), ("3 Go", 3072), ("64 GB", 65536), ("1.2 GB", 1228),
    ("65\u202f536 Mo", 65536), ("900 Ko", 0), ("2 To", 2 * 1024 * 1024), ("0,5\u00a0Go", 512),
])
def test_parse_size(text: str, mb: int) -> None:
    size = parse_size(text)
    assert size is not None and size.mb == mb


def test_parse_size_rejects_words() -> None:
    assert parse_size("3 Mois") is None and parse_size("beaucoup") is None


def test_french_formatting() -> None:
    assert [format_mb(v) for v in (412, 1228, 65536, 1024)] == ["412 Mo", "1,2 Go", "64 Go",
                                                                 "1 Go"]
    assert [format_percent(v) for v in (1.87, 0.4, 11.0)] == ["2 %", "0,4 %", "11 %"]


def test_versions_compare_numerically() -> None:
    assert version_tuple("2.10.0") > version_tuple("2.9.9")
    assert version_tuple("2.2") == version_tuple("2.2.0")
    assert version_tuple("v2.2.5 (build 2250)") == (2, 2, 5)


@pytest.mark.parametrize(("text", "expected"), [
    ("iPadOS 17.4", ("iPadOS", "17.4")), ("Android 14", ("Android", "14")),
    ("ipados 17.4.1", ("iPadOS", "17.4.1")), ("Windows 11 Famille", ("Windows", "11")),
    ("ChromeOS", ("ChromeOS", None)),
])
def test_split_os(text: str, expected: tuple[str, str | None]) -> None:
    assert split_os(text) == expected


# --- body labels --------------------------------------------------------------------------------

def test_labels_any_order_quoted_nbsp_multiline() -> None:
    text = ("> Réseau\u202f: cellulaire\n> Version de l’application\u00a0: 2.2.4\n"
            ">> Description du problème :\n>> Ligne un\n>> ligne deux\n>\n"
            "> Mémoire : 4 Go (libre\u202f: 1,5 Go)\n> PRIORITE : Importante\n"
            "Merci : Claire\n")
    body = read_body(text)
    assert body is not None and body.problems == []
    assert body.values == {
        "network": "cellulaire", "app_version": "2.2.4", "description": "Ligne un\nligne deux",
        "ram_total_mb": 4096, "ram_free_mb": 1536, "priority": "importante"}


def test_free_text_after_a_blank_line_and_english_values() -> None:
    raw = label_values("Problem description:\n\nIt hangs.\nStill.\n\nConsent: no\n"
                       "Sensitive data: excluded\nNetwork: offline\n")
    assert raw == {"description": "It hangs.\nStill.", "consent": "no",
                   "sensitive_data": "excluded", "network": "offline"}
    body = read_body("App version: 2.2.5\nConsent: no\nNetwork: offline\nRecipient: teaching "
                     "support\n")
    assert body is not None
    assert body.values == {"app_version": "2.2.5", "consent": False, "network": "hors_ligne",
                           "recipient": "pedagogique"}


def test_unknown_label_values_become_findings_without_the_value() -> None:
    body = read_body("Priorité : Léa Fontaine\nStockage : beaucoup\n")
    assert body is not None and body.values == {}
    assert [(p.code, p.message) for p in body.problems] == [
        ("invalid_field", "« Priorité » : valeur non reconnue dans le corps du message."),
        ("invalid_field", "« Stockage » : taille illisible dans le corps du message.")]


# --- names ---------------------------------------------------------------------------------------

def make_scrubber() -> Scrubber:
    scrubber = Scrubber()
    scrubber.add("Léa", "Martin", "ELV-LEA")
    scrubber.add("Moussa", "N'Diaye", "ELV-MOU")
    scrubber.add("Inès", "Benali", "ELV-INE")
    scrubber.add("Jade", "Da Silva", "ELV-JAD")
    scrubber.add("Léa", "Fontaine", "ELV-LEF")
    scrubber.add("A", "Bo", "ELV-BO")
    return scrubber


@pytest.mark.parametrize(("text", "expected"), [
    ("Léa Martin et Martin Léa", "[ELV-LEA] et [ELV-LEA]"),
    ("MARTIN LÉA, martin", "[ELV-LEA], [ELV-LEA]"),
    ("Léa seule", "[ELV-LEA|ELV-LEF] seule"),  # two students named Léa
    ("Léandre, Martinez, Lea Martin", "Léandre, Martinez, [ELV-LEA]"),  # whole words; accents
    # are ignored (Lea = Léa)
    ("N’Diaye Moussa puis n'diaye", "[ELV-MOU] puis [ELV-MOU]"),
    ("les photos d'Inès", "les photos d'[ELV-INE]"),
    ("Jade Da Silva, Da Silva, Silva, da", "[ELV-JAD], [ELV-JAD], [ELV-JAD], da"),
    ("Léa\n  Martin", "[ELV-LEA]"),
    ("Le\u0301a Martin", "[ELV-LEA]"),  # decomposed accent (NFD)
    ("A Bo et a", "[ELV-BO] et a"),  # one-letter names alone are not names
    ("Rien à signaler.", "Rien à signaler."),
])
def test_scrub(text: str, expected: str) -> None:
    assert make_scrubber().scrub(text) == expected


def test_scrubber_repr_shows_no_name() -> None:
    assert "Léa" not in repr(make_scrubber()) and repr(Scrubber()) == "Scrubber(0 formes)"


# --- diagnostic.json schema -------------------------------------------------------------------

def test_schema_keeps_unknown_keys_and_valid_values() -> None:
    document = {"format": 1, "nouveau": {"x": 1}, "device": {"os": "iPadOS", "gpu": "A13",
                                                              "ram_total_mb": "3072"},
                "errors": [{"code": "SYNC-504", "at": "jamais"}, {"code": "AUTH-401"}]}
    model, findings = load(json.dumps(document).encode())
    assert model is not None
    assert model.model_extra == {"nouveau": {"x": 1}}
    assert model.device.model_extra == {"gpu": "A13"} and model.device.ram_total_mb == 3072
    assert [e.code for e in model.errors] == ["SYNC-504", "AUTH-401"]
    assert [(f.code, f.where) for f in findings] == [
        ("impossible_value", "diagnostic.json, errors.0.at")]


def test_schema_findings_never_echo_the_input() -> None:
    document = {"device": {"ram_free_mb": "Léa Fontaine", "os": ["Moussa"]},
                "request": {"consent": "Chloé"}, "sync": "Inès", "errors": "Théo"}
    model, findings = load(json.dumps(document).encode("utf-8-sig"))
    assert model is not None and model.sync is None
    text = " ".join(f"{f.message} {f.where}" for f in findings)
    for name in ("Léa", "Fontaine", "Moussa", "Chloé", "Inès", "Théo"):
        assert name not in text
    assert sorted(f.where or "" for f in findings) == [
        "diagnostic.json, device.os", "diagnostic.json, device.ram_free_mb",
        "diagnostic.json, errors", "diagnostic.json, request.consent", "diagnostic.json, sync"]


@pytest.mark.parametrize(("data", "where"), [
    (b'{"format": 1\n  "app": {}}', "diagnostic.json, ligne 2, colonne 3"),
    (b"", "diagnostic.json, ligne 1, colonne 1"),
    (b"[" * 100_000, None),
    (b'"texte"', None),
    (b"\xff\xfe\x00garbage", "diagnostic.json, ligne 1, colonne 1"),
])
def test_schema_malformed(data: bytes, where: str | None) -> None:
    model, findings = load(data)
    assert model is None and len(findings) == 1
    assert findings[0].code in ("malformed_json", "invalid_field")
    if where:
        assert findings[0].where == where


# --- CSV tables ---------------------------------------------------------------------------------

def test_tables_encodings_and_line_numbers() -> None:
    text = "id;nom;prenom;cree_le;derniere_activite;statut\r\nE-1;Lefèvre;Chloé;;;actif\r\n"
    for data in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8"),
                 text.encode("cp1252"), text.encode("utf-16")):
        table = read_students(data)
        assert table.problems == [] and table.has_names
        assert [(r.line, r.student_id, r.first, r.last) for r in table.rows] == [
            (2, "E-1", "Chloé", "Lefèvre")]
    assert "Chloé" not in repr(table.rows[0])


def test_tables_bad_rows_and_quotes() -> None:
    data = (b'eleve_id;photos;videos;documents;taille_octets\nE-1;1;2;3;4\nE-2;x;0;0;0\n'
            b'E-3;1;2\nE-4;-1;0;0;10\n"E-5;1;0;0;0\n')
    table = read_media(data)
    # The stray quote of line 6 is read past: the line is split without quotes.
    assert [(r.student_id, r.photos) for r in table.rows] == [("E-1", 1), ("E-2", None),
                                                              ("E-4", -1), ("E-5", 1)]
    assert [(p.code, p.where) for p in table.problems] == [
        ("malformed_csv", "medias.csv, ligne 6"),
        ("malformed_csv", "medias.csv, ligne 4"),
        ("invalid_field", "medias.csv, ligne 3"),
        ("negative_value", "medias.csv, ligne 5")]
    assert table.problems[0].message == ("medias.csv : 1 ligne relue sans tenir compte des "
                                         "guillemets (guillemet non fermé ou champ trop long).")


def test_tables_missing_id_column_and_empty() -> None:
    assert [p.message for p in read_students(b"nom;prenom\n").problems] == [
        "eleves.csv : colonne « id » absente."]
    assert [p.message for p in read_media(b"").problems] == ["medias.csv est vide."]


# --- journal --------------------------------------------------------------------------------------

def test_journal_counts_errors_not_info_and_reports_bad_lines() -> None:
    text = ("2025-04-06T09:12:44+02:00 ERROR SYNC-504 Délai\n"
            "2025-04-06T09:13:00+02:00 INFO SYNC-100 Démarrage\n"
            "n'importe quoi\n\n"
            "2025-04-06T09:14:00+02:00 WARN MEDIA-413 Trop lourd\n")
    for data in (text.encode(), gzip.compress(text.encode()),
                 gzip.compress(text.encode()[:60]) + gzip.compress(text.encode()[60:])):
        journal = read_journal(data, "journal-24h.log", 1024 * 1024)
        assert dict(journal.counts) == {"SYNC-504": 1, "MEDIA-413": 1}
        assert [(p.code, p.where) for p in journal.problems] == [
            ("malformed_journal", "journal-24h.log, ligne 3")]


def test_journal_truncation_and_corruption() -> None:
    line = b"2025-04-06T09:12:44+02:00 ERROR SYNC-504 x\n"
    journal = read_journal(gzip.compress(line * 1000), "j.log.gz", 10 * len(line))
    assert journal.counts["SYNC-504"] == 10 and journal.readable
    assert journal.problems[0].code == "journal_truncated"
    broken = read_journal(gzip.compress(line * 100)[:-30], "j.log.gz", 1 << 20)
    assert "malformed_journal" in [p.code for p in broken.problems]
    assert not read_journal(b"\x1f\x8b" + bytes(50), "j.log.gz", 1 << 20).readable


def test_gzip_bomb_memory_stays_bounded() -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 1024 * 1024
    tracemalloc.start()
    try:
        journal = read_journal(bomb, "journal-24h.log.gz", 20 * 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert journal.problems[0].code == "journal_truncated" and not journal.readable
    assert peak < 2 * 1024 * 1024, peak


# --- never raise -------------------------------------------------------------------------------

def _with_attachments(files: dict[str, bytes]) -> bytes:
    message = EmailMessage()
    message["From"] = "claire.dubois@ecole-les-tilleuls.example"
    message["X-ECarnet-Report"] = "1"
    message.set_content("Version de l'application : ???\nMémoire : (libre : )\n")
    for name, data in files.items():
        message.add_attachment(data, maintype="application", subtype="octet-stream",
                               filename=name)
    return message.as_bytes()


def test_garbage_attachments_never_raise() -> None:
    rng = random.Random(20250406)
    valid = build_report_mail()
    names = ("diagnostic.json", "eleves.csv", "medias.csv", "journal-24h.log.gz",
             "journal-24h.log")
    samples = [b"", b"\x00" * 100, b"\x1f\x8b\x08" + bytes(20), b'{"a":' * 5000,
               b"id;nom\n\"unterminated\n", b"\xff\xfe\xfd", b"null", b"[1,2]",
               b'{"device": {"ram_total_mb": 1e999}, "errors": [null, 3, {}]}',
               b'{"sync": {"last_success_at": "2025-13-45T99:99:99"}, "format": "deux"}']
    for _ in range(40):
        samples.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))))
    for index, sample in enumerate(samples):
        raw = _with_attachments({name: sample for name in names[index % 2:]})
        parsed = parse_mail(raw)
        assert is_report(parsed)
        report = extract_report(parsed, ReportSettings(), pseudonymise)
        assert "internal_error" not in report.finding_codes(), report.findings
        json.dumps(report.to_json())
    for _ in range(30):  # truncated and bit-flipped copies of a whole report
        mutated = bytearray(valid[:rng.randrange(len(valid))])
        for _ in range(20):
            if mutated:
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        report = extract_report(parse_mail(bytes(mutated)), ReportSettings(), pseudonymise)
        json.dumps(report.to_json())


def test_unexpected_errors_become_internal_error_findings() -> None:
    def broken(value: str) -> str:
        raise RuntimeError("secret Léa Fontaine")

    parsed = parse_mail(build_report_mail())
    report = extract_report(parsed, ReportSettings(), broken)
    internal = [f for f in report.findings if f.code == "internal_error"]
    assert internal and all("Léa" not in f.message for f in internal)
    assert internal[0].message == ("Erreur interne (RuntimeError) pendant « listes d'élèves et "
                                   "de médias » : rapport partiel.")
    assert report.app_version == "2.2.5"  # the other stages still ran
    parsed.message = None  # type: ignore[assignment]
    assert extract_report(parsed, ReportSettings(), pseudonymise).findings
    assert is_report(parsed) in (True, False)


def test_many_invalid_json_values_are_grouped() -> None:
    document = {"errors": [{"code": "SYNC-504", "at": "hier"} for _ in range(50)]}
    model, findings = load(json.dumps(document).encode())
    assert model is not None and len(model.errors) == 50
    assert len(findings) == 6
    assert findings[-1].message == ("diagnostic.json : 45 autres valeurs ignorées "
                                    "(errors.5.at, errors.6.at, errors.7.at…).")


def test_oversized_attachment_is_skipped_with_a_finding() -> None:
    raw = build_report_mail(n_students=60)
    settings = ReportSettings(attachment_max_bytes=3000)
    report = extract_report(parse_mail(raw), settings, pseudonymise)
    assert [(f.code, f.message) for f in report.findings if f.code != "count_mismatch"] == [
        ("attachment_too_large", "eleves.csv ignoré : 3,4 Ko, au-delà de la limite de 2,9 Ko.")]
    assert report.students_total == 60 and report.students_active is None  # usage.students
    assert report.media is not None
