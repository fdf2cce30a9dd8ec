"""Report review fixes: error codes, bounded line counts, signatures, implausible values,
findings that repeat nothing, the test builders' modules."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from typing import Any

import pytest

from mailbot.parse import parse_mail
from mailbot.reports import Finding, Report, ReportSettings, extract_report
from mailbot.reports.journal import read_journal
from mailbot.reports.tables import read_media, read_students
from mailbot.reports.wording import plural
from tests.reportmail import REPORT_ID, build_report_mail, huge_line_csv, pseudonymise

NAME_PARTS = ("Kévin", "Guessan", "Valjean", "Léa", "Fontaine", "Moussa", "Léo")


def extract(**options: Any) -> Report:
    return extract_report(parse_mail(build_report_mail(**options)), ReportSettings(),
                          pseudonymise)


def found(report: Report) -> list[tuple[str, str | None]]:
    return [(f.code, f.where) for f in report.findings]


def findings_text(report: Report) -> str:
    return " ".join(f"{f.message} {f.where}" for f in report.findings)


# --- 4. only real error codes -------------------------------------------------------------

def test_free_text_last_error_is_not_a_signature() -> None:
    report = extract(json_changes={"sync": {"last_error": "Photo de Kévin N'Guessan refusée"}})
    assert report.signature == "2.2.5|SYNC-504"  # the journal's top code
    assert found(report) == [("invalid_field", "diagnostic.json, sync.last_error")]
    assert report.findings[0].message == ("diagnostic.json : sync.last_error ignoré (pas un "
                                          "code d'erreur).")
    assert "Kévin" not in json.dumps(report.to_json(), ensure_ascii=False)


@pytest.mark.parametrize("written", ["auth-401", "AUTH-401:", " Auth-401 : "])
def test_last_error_codes_are_normalised(written: str) -> None:
    report = extract(json_changes={"sync": {"last_error": written}})
    assert report.signature == "2.2.5|AUTH-401" and report.findings == []


def test_journal_codes_are_normalised_and_codeless_errors_counted() -> None:
    journal = ("2025-04-06T08:00:00+02:00 ERROR sync-504 a\n"
               "2025-04-06T08:10:00+02:00 ERROR SYNC-504: b\n"
               "2025-04-06T08:20:00+02:00 ERROR Photo de Léa Fontaine refusée\n"
               "2025-04-06T08:30:00+02:00 INFO démarrage\n").encode()
    report = extract(journal_bytes=journal, json_changes={"sync": {"last_error": None}})
    assert report.error_codes == {"SYNC-504": 2} and report.signature == "2.2.5|SYNC-504"
    assert [(f.code, f.message, f.where) for f in report.findings] == [(
        "malformed_journal", "journal-24h.log : 1 ligne d'erreur sans code reconnaissable.",
        "journal-24h.log, ligne 3")]


def test_json_error_codes_are_validated() -> None:
    errors = [{"code": "sync-504"}, {"code": "SYNC-504:"}, {"code": "Théo Garnier"}]
    report = extract(detail="essentiel", json_changes={"errors": errors})
    assert report.error_codes == {"SYNC-504": 2}
    assert [(f.code, f.message, f.where) for f in report.findings] == [(
        "invalid_field", "diagnostic.json : 1 code d'erreur non reconnu ignoré dans errors.",
        "diagnostic.json, errors")]


# --- 5. bad lines are counted, not stored ---------------------------------------------------

def _peak(function: Any, *args: Any) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        result = function(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_million_bad_journal_lines_keep_a_count_not_a_list() -> None:
    data = gzip.compress(b"x\n" * 1_000_000)
    journal, peak = _peak(read_journal, data, "journal-24h.log.gz", 20 * 1024 * 1024)
    assert peak < 8 * 1024 * 1024, peak  # a list of a million line numbers is ~36 MB
    assert [(p.message, p.where) for p in journal.problems] == [(
        "journal-24h.log.gz : 1\u202f000\u202f000 lignes illisibles.",
        "journal-24h.log.gz, lignes 1, 2, 3…")]


def test_many_bad_csv_lines_keep_a_count_not_a_list() -> None:
    data = b"eleve_id;photos;videos;documents;taille_octets\n" + b"x\n" * 99_999
    table, peak = _peak(read_media, data)
    assert peak < 2 * 1024 * 1024, peak  # a list of the line numbers is ~4 MB
    assert [(p.message, p.where) for p in table.problems] == [(
        "medias.csv : 99\u202f999 lignes ignorées (nombre de champs incorrect).",
        "medias.csv, lignes 2, 3, 4…")]


def test_an_over_long_csv_line_is_not_copied() -> None:
    data = huge_line_csv(4 * 1024 * 1024, after="E-0002;Dupuis;Kévin;2024-09-02;;actif\n")
    table, peak = _peak(read_students, data)
    assert peak < 3 * len(data), peak  # decoding the text, not copies of the line
    assert [r.student_id for r in table.rows] == ["E-0002"]
    assert [(p.message, p.where) for p in table.problems][-1] == (
        "eleves.csv : 1 ligne ignorée (champ de plus de 128 Ko).", "eleves.csv, ligne 2")


def test_lists_beyond_the_line_limit_are_counted_not_read() -> None:
    data = b"id;nom;prenom;cree_le;derniere_activite;statut\n" + b"x\n" * 1_000_000
    table = read_students(data)
    assert [(p.code, p.message) for p in table.problems] == [
        ("malformed_csv", "eleves.csv : 99\u202f999 lignes ignorées (nombre de champs "
         "incorrect)."),
        ("list_truncated", "eleves.csv tronqué : 900\u202f001 lignes au-delà des "
         "100\u202f000 premières non lues.")]


# --- 6. one bug, one signature; report ids ------------------------------------------------

@pytest.mark.parametrize("version", ["2.2.5.0", "2.2.5.0.0"])
def test_signature_drops_zero_components_beyond_three(version: str) -> None:
    report = extract(json_changes={"app": {"version": version},
                                   "sync": {"last_error": "sync-504"}})
    assert report.signature == "2.2.5|SYNC-504"


def test_report_ids_are_compared_in_lower_case() -> None:
    raw = build_report_mail().replace(f"X-ECarnet-Report-Id: {REPORT_ID}".encode(),
                                      f"X-ECarnet-Report-Id: <{REPORT_ID.upper()}>".encode())
    report = extract_report(parse_mail(raw), ReportSettings(), pseudonymise)
    assert report.report_id == REPORT_ID and report.to_json()["report_id"] == REPORT_ID
    assert report.findings == []


def test_header_and_json_report_ids_disagree() -> None:
    other = "11111111-2222-4333-8444-555555555555"
    report = extract(json_changes={"report_id": other})
    assert report.report_id == REPORT_ID
    assert [(f.code, f.message, f.where) for f in report.findings] == [(
        "body_json_mismatch", "« Identifiant du rapport » : l'en-tête X-ECarnet-Report-Id et "
        "diagnostic.json diffèrent (en-tête retenu).", "diagnostic.json, report_id")]


# --- 7. implausible values -------------------------------------------------------------------

@pytest.mark.parametrize(("generated_at", "reason"), [
    ("9999-12-31T23:59:59+00:00", "plus d'un jour après la date du message"),
    ("2025-04-08T09:15:02+02:00", "plus d'un jour après la date du message"),
    ("2019-06-01T00:00:00+00:00", "antérieure à 2020"),
])
def test_impossible_generated_at_is_unknown(generated_at: str, reason: str) -> None:
    report = extract(json_changes={"generated_at": generated_at})
    assert [(f.code, f.message, f.where) for f in report.findings] == [(
        "impossible_value", f"diagnostic.json : generated_at ignoré (date {reason}).",
        "diagnostic.json, generated_at")]
    assert report.generated_at is None and report.hours_since_sync == 15.2  # from Date


def test_impossible_sizes_are_unknown() -> None:
    report = extract(json_changes={"device": {"ram_total_mb": 10**30,
                                              "storage_free_mb": 200 * 1024**3}})
    assert [(f.code, f.message, f.where) for f in report.findings] == [
        ("impossible_value", "« Mémoire totale » : plus de 1 To dans diagnostic.json, valeur "
         "impossible ignorée.", "diagnostic.json, device.ram_total_mb"),
        ("impossible_value", "« Stockage libre » : plus de 100 To dans diagnostic.json, "
         "valeur impossible ignorée.", "diagnostic.json, device.storage_free_mb")]
    assert (report.ram_total_mb, report.storage_free_mb) == (3072, 20480)  # the body's
    body_only = extract(forwarded="inline", doc_changes={"device": {"ram_total_mb": 10**30}})
    assert body_only.ram_total_mb is None
    assert ("impossible_value", "corps du message") in found(body_only)


def test_impossible_media_size_is_left_out_of_the_totals() -> None:
    table = read_media(b"eleve_id;photos;videos;documents;taille_octets\n"
                       b"E-1;1;0;0;5\nE-2;1;0;0;2000000000000000000\n")
    assert [row.bytes for row in table.rows] == [5, None]
    assert [(p.code, p.message, p.where) for p in table.problems] == [(
        "impossible_value", "medias.csv : taille impossible (plus de 1 Po) sur 1 ligne "
        "(exclue des totaux).", "medias.csv, ligne 3")]


def test_large_counts_have_thousands_separators() -> None:
    assert plural(10_485_760, "ligne", "lignes") == "10\u202f485\u202f760 lignes"
    report = extract(json_changes={"sync": {"last_success_at": "2020-01-02T00:00:00+01:00"}})
    assert report.findings[-1].message == ("Dernière synchronisation réussie il y a "
                                           "1\u202f921 jours (le 02/01/2020 à 00:00).")


# --- 8. findings repeat no key, value or name --------------------------------------------------

def test_unknown_keys_are_not_echoed() -> None:
    per_student = {"Kévin N'Guessan": {"completion_percent": 140}}
    report = extract(json_changes={"usage": {"per_student": per_student}})
    assert [(f.code, f.message, f.where) for f in report.findings] == [(
        "impossible_value", "diagnostic.json : pourcentage hors de 0–100 (usage, clé "
        "inconnue).", "diagnostic.json, usage")]


def test_free_values_are_not_echoed() -> None:
    raw = build_report_mail(json_changes={"device": {"os": "Jean Valjean"}}).replace(
        b"X-ECarnet-App-Version: 2.2.5", b"X-ECarnet-App-Version: Valjean 2.1").replace(
        b"X-ECarnet-Report: 1", "X-ECarnet-Report: Léo".encode()).replace(
        b'filename="journal-24h.log"', b'filename="journal-Jean-Valjean.log"')
    report = extract_report(parse_mail(raw), ReportSettings(), pseudonymise)
    assert [f.message for f in report.findings] == [
        "Version de format inconnue dans l'en-tête X-ECarnet-Report : rapport lu au mieux.",
        "« Système » : « iPadOS » dans le message, une autre valeur dans diagnostic.json "
        "(valeur de diagnostic.json retenue).",
        "« Version de l'application » : 2.1 dans l'en-tête X-ECarnet-App-Version, 2.2.5 dans "
        "le rapport."]
    assert "journal-24h.log" in report.sources
    text = findings_text(report) + " ".join(report.sources)
    assert all(part not in text for part in NAME_PARTS)


def test_every_finding_goes_through_the_scrubber(monkeypatch: pytest.MonkeyPatch) -> None:
    def leaky(facts: Any) -> Any:
        yield Finding("test", "Photo de Léa Fontaine refusée", "usage.Moussa")

    import mailbot.reports.extract as extract_module

    monkeypatch.setattr(extract_module, "CHECKS", (*extract_module.CHECKS, leaky))
    report = extract()
    assert report.findings[-1] == Finding(
        "test", f"Photo de [{pseudonymise('E-0001')}] refusée",
        f"usage.[{pseudonymise('E-0002')}]")


# --- 10. the test builders are split, their names still import from reportmail --------------

def test_reportmail_reexports_the_split_modules() -> None:
    from tests import reportbody, reportbombs, reportmail, reportnames

    assert reportmail.class_list is reportnames.class_list
    assert reportmail.FIRST_NAMES is reportnames.FIRST_NAMES
    assert reportmail.body_block is reportbody.body_block
    assert reportmail.gzip_bomb is reportbombs.gzip_bomb
    assert all(hasattr(reportmail, name) for name in reportmail.__all__)
    assert {"REPORT_ID", "JOURNAL_COUNTS", "build_report_mail", "pseudonymise",
            "STUDENT_NAME_WORDS"} <= set(reportmail.__all__)
