"""e-carnet reports end to end: every spec variant -> exact ``to_json()`` fields and findings."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mailbot.parse import parse_mail
from mailbot.reports import Report, ReportSettings, extract_report, is_report
from tests.mails import make_mail
from tests.reportmail import (
    CLASS,
    JOURNAL_COUNTS,
    REPORT_ID,
    STUDENT_NAME_WORDS,
    build_report_mail,
    media_counts,
    pseudonymise,
)

CONTRACT = ("report_id", "app_version", "os", "os_version", "network", "priority", "recipient",
            "detail_level", "sensitive_data", "consent", "students_total", "students_active",
            "students_inactive", "media", "error_codes", "sync_state", "findings")
JSON_ERRORS = {"SYNC-504": 2, "MEDIA-413": 1}  # the last three journal entries
BASE: dict[str, Any] = {
    "report_id": REPORT_ID, "app_version": "2.2.5", "os": "iPadOS", "os_version": "17.4",
    "network": "wifi", "priority": "urgente", "recipient": "technique",
    "detail_level": "complet", "sensitive_data": "incluses", "consent": True,
    "students_total": 6, "students_active": 4, "students_inactive": 2,
    "media": {"photos": 75, "videos": 7, "documents": 12, "bytes": 21_000_000},
    "error_codes": JOURNAL_COUNTS, "sync_state": "bloquee", "findings": [],
}
SCRUBBED_CONTEXT = {
    "description": "La synchronisation reste bloquée à 45 % depuis hier soir. Les photos de "
                   f"[{pseudonymise('E-0001')}] et de [{pseudonymise('E-0002')}] ne remontent "
                   "plus.",
    "actions": "Ajout de 30 photos dans le portfolio de la classe de CE2, dont celles de\n"
               f"[{pseudonymise('E-0003')}].",
    "frequency": "à chaque synchronisation", "impact": "bloquant",
}
RAW_CONTEXT = {
    "description": "La synchronisation reste bloquée à 45 % depuis hier soir. Les photos de "
                   "Léa Fontaine et de Moussa ne remontent plus.",
    "actions": "Ajout de 30 photos dans le portfolio de la classe de CE2, dont celles de\n"
               "LEFÈVRE Chloé.",
    "frequency": "à chaque synchronisation", "impact": "bloquant",
}


def extract(settings: ReportSettings | None = None, **options: Any) -> Report:
    parsed = parse_mail(build_report_mail(**options))
    assert is_report(parsed)
    return extract_report(parsed, settings or ReportSettings(), pseudonymise)


def contract(report: Report) -> dict[str, Any]:
    data = report.to_json()
    return {key: data[key] for key in CONTRACT}


def finding(code: str, message: str, where: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "where": where}


P = {student_id: pseudonymise(student_id) for student_id, _, _ in CLASS}
P["E-9999"] = pseudonymise("E-9999")

VARIANTS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("default", {}, {}),
    ("english labels", {"english": True}, {"os": "Android", "os_version": "14"}),
    ("utf-8 BOM, CRLF, gzip journal", {"bom": True, "crlf": True, "gzip_log": True}, {}),
    ("windows-1252 lists, CRLF", {"cp1252": True, "crlf": True}, {}),
    ("forwarded as an attachment", {"forwarded": "attached"}, {}),
    ("sensitive data excluded", {"sensitive_excluded": True}, {"sensitive_data": "exclues"}),
    ("consent refused, lists attached anyway", {"consent": False, "attach_lists": True},
     {"consent": False, "students_active": None, "students_inactive": None, "media": None,
      "findings": [finding("consent_refused", "Consentement refusé : les listes d'élèves et "
                           "de médias ne sont ni analysées ni conservées.")]}),
    ("consent refused, no lists", {"consent": False},
     {"consent": False, "students_active": None, "students_inactive": None, "media": None,
      "findings": [finding("consent_refused", "Consentement refusé : les listes d'élèves et "
                           "de médias ne sont ni analysées ni conservées.")]}),
    ("malformed diagnostic.json", {"malformed_json": True},
     {"sync_state": None, "findings": [finding(
         "malformed_json", "diagnostic.json illisible : virgule attendue.",
         "diagnostic.json, ligne 3, colonne 3")]}),
    ("malformed eleves.csv", {"malformed_csv": True},
     {"findings": [finding("malformed_csv", "eleves.csv : 1 ligne ignorée (nombre de champs "
                           "incorrect).", "eleves.csv, ligne 5")]}),
    ("orphan media and students without media", {"orphan_media": True, "missing_media_rows": 2},
     {"media": {"photos": 49, "videos": 6, "documents": 8, "bytes": 15_000_000},
      "findings": [
          finding("orphan_media", "1 ligne de medias.csv pour un élève absent de eleves.csv "
                  f"({P['E-9999']}).", "medias.csv, ligne 6"),
          finding("student_without_media", f"2 élèves sans ligne dans medias.csv "
                  f"({P['E-0005']}, {P['E-0006']}).", "eleves.csv, lignes 6, 7")]}),
    ("stale sync, outdated app, storage nearly full",
     {"stale_sync": True, "app_version": "2.1.0", "storage_full": True},
     {"app_version": "2.1.0", "findings": [
         finding("storage_low", "Stockage presque plein : 1,2 Go libres sur 64 Go (2 %)."),
         finding("sync_stale", "Dernière synchronisation réussie il y a 3 jours "
                 "(le 03/04/2025 à 18:02)."),
         finding("app_outdated", "Application en version 2.1.0, antérieure à la version "
                 "actuelle 2.2.5.")]}),
    ("body and JSON disagree", {"disagree": True},
     {"findings": [
         finding("body_json_mismatch", "« Priorité » : « normale » dans le message, « urgente » "
                 "dans diagnostic.json (valeur de diagnostic.json retenue).",
                 "diagnostic.json, request.priority"),
         finding("body_json_mismatch", "« Réseau » : « cellulaire » dans le message, « wifi » "
                 "dans diagnostic.json (valeur de diagnostic.json retenue).",
                 "diagnostic.json, network.state")]}),
    ("never synced", {"never_synced": True},
     {"sync_state": "jamais", "findings": [
         finding("sync_never", "Aucune synchronisation réussie n'a encore eu lieu.")]}),
    ("unknown format, no report id header", {"format_header": "2", "report_id_header": False},
     {"findings": [finding("unknown_format", "Version de format inconnue dans l'en-tête "
                           "X-ECarnet-Report (2) : rapport lu au mieux.", "X-ECarnet-Report")]}),
    ("detail level essentiel", {"detail": "essentiel"},
     {"detail_level": "essentiel", "students_active": None, "students_inactive": None,
      "media": None, "error_codes": JSON_ERRORS}),
    ("gzip bomb journal", {"gzip_bomb": True},
     {"error_codes": JSON_ERRORS, "findings": [
         finding("journal_truncated", "journal-24h.log.gz tronqué : lecture arrêtée après "
                 "20 Mo décompressés.", "journal-24h.log.gz"),
         finding("malformed_journal", "journal-24h.log.gz : 1 ligne illisible.",
                 "journal-24h.log.gz, ligne 1")]}),
]


@pytest.mark.parametrize(("options", "changes"), [v[1:] for v in VARIANTS],
                         ids=[v[0] for v in VARIANTS])
def test_variant_contract_fields(options: dict[str, Any], changes: dict[str, Any]) -> None:
    assert contract(extract(**options)) == {**BASE, **changes}


def test_default_extra_fields() -> None:
    data = extract().to_json()
    extra = {key: data[key] for key in (
        "format_version", "generated_at", "app_build", "device_model", "ram_total_mb",
        "ram_free_mb", "storage_total_mb", "storage_free_mb", "main_error_code", "signature",
        "last_sync_at", "hours_since_sync", "pending_items", "user_context", "lists_dropped",
        "sources")}
    assert extra == {
        "format_version": 1, "generated_at": "2025-04-06T09:15:02+02:00", "app_build": 2250,
        "device_model": "iPad (9th generation)", "ram_total_mb": 3072, "ram_free_mb": 412,
        "storage_total_mb": 65536, "storage_free_mb": 20480, "main_error_code": "SYNC-504",
        "signature": "2.2.5|SYNC-504", "last_sync_at": "2025-04-05T18:02:00+02:00",
        "hours_since_sync": 15.2, "pending_items": 31, "user_context": SCRUBBED_CONTEXT,
        "lists_dropped": False,
        "sources": ["body", "diagnostic.json", "eleves.csv", "medias.csv", "journal-24h.log"],
    }
    assert data["students"][:2] == [
        {"pseudonym": P["E-0001"], "status": "actif",
         "last_activity": "2025-04-05T17:40:00+02:00", "photos": 10, "videos": 0,
         "documents": 1, "bytes": 1_000_000},
        {"pseudonym": P["E-0002"], "status": "inactif", "last_activity": None, "photos": 11,
         "videos": 1, "documents": 2, "bytes": 2_000_000},
    ]
    json.dumps(data)  # JSON-ready


def test_body_only_forwarded_inline_with_quote_marks() -> None:
    report = extract(forwarded="inline")
    data = report.to_json()
    assert contract(report) == {
        **BASE, "report_id": None, "students_total": None, "students_active": None,
        "students_inactive": None, "media": None, "error_codes": {}, "sync_state": None,
        "findings": [finding("missing_attachment", "Niveau de détail « complet » mais pièces "
                             "jointes absentes : eleves.csv, medias.csv, journal-24h.log.")]}
    assert (data["ram_total_mb"], data["ram_free_mb"]) == (3072, 412)
    assert (data["storage_total_mb"], data["storage_free_mb"]) == (65536, 20480)
    assert data["app_build"] == 2250 and data["sources"] == ["body"]
    assert data["user_context"] == RAW_CONTEXT  # no list: nothing to scrub with
    assert report.signature is None


def test_english_body_only() -> None:
    data = extract(forwarded="inline", english=True).to_json()
    assert {k: data[k] for k in ("os", "os_version", "priority", "recipient", "detail_level",
                                 "sensitive_data", "consent", "network")} == {
        "os": "Android", "os_version": "14", "priority": "urgente", "recipient": "technique",
        "detail_level": "complet", "sensitive_data": "incluses", "consent": True,
        "network": "wifi"}


def test_five_thousand_students() -> None:
    report = extract(n_students=5000)
    sums = [sum(media_counts(i)[k] for i in range(5000)) for k in range(4)]
    assert contract(report) == {
        **BASE, "students_total": 5000, "students_active": 3333,
        "students_inactive": 1667,
        "media": dict(zip(("photos", "videos", "documents", "bytes"), sums, strict=True))}
    assert len(report.students) == 5000
    assert len({s.pseudonym for s in report.students}) == 5000
    every_name = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, STUDENT_NAME_WORDS)) +
                            r")(?!\w)", re.IGNORECASE)
    assert every_name.findall(json.dumps(report.to_json(), ensure_ascii=False)) == []
    assert every_name.findall(repr(report)) == []


def test_five_thousand_students_are_all_counted() -> None:
    # Speed is measured by benchmarks/report_parse.py, not asserted here.
    data = extract_report(parse_mail(build_report_mail(n_students=5000)), ReportSettings(),
                          pseudonymise).to_json()
    assert data["students_total"] == 5000 and len(data["students"]) == 5000
    assert data["students_active"] + data["students_inactive"] == 5000
    assert len({s["pseudonym"] for s in data["students"]}) == 5000


def test_consent_refused_uses_the_list_only_to_hide_names(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    def forbidden(data: bytes) -> None:
        raise AssertionError("media list decoded despite refused consent")

    monkeypatch.setattr("mailbot.reports.stages.read_media", forbidden)
    parsed = parse_mail(build_report_mail(consent=False, attach_lists=True))
    report = extract_report(parsed, ReportSettings(), pseudonymise)
    assert report.lists_dropped and report.students == []
    assert (report.students_active, report.students_inactive, report.media) == (None, None, None)
    assert report.finding_codes() == ["consent_refused"]
    # the user's words are kept, with the children's names replaced
    assert report.to_json()["user_context"] == SCRUBBED_CONTEXT
    assert "eleves.csv" not in report.sources


def test_report_id_header_wins_else_json() -> None:
    changed = {"report_id": "11111111-2222-4333-8444-555555555555"}
    assert extract(json_changes=changed).report_id == REPORT_ID
    assert extract(json_changes=changed, report_id_header=False).report_id == changed[
        "report_id"]


def test_sync_stale_against_mail_date_when_generated_at_missing() -> None:
    report = extract(json_changes={"generated_at": None,
                                   "sync": {"last_success_at": "2025-04-04T09:00:00+02:00"}})
    assert report.generated_at is None and report.hours_since_sync == 48.3
    assert report.findings[-1].message == ("Dernière synchronisation réussie il y a 2 jours "
                                           "(le 04/04/2025 à 09:00).")


def test_storage_low_absolute_threshold_and_settings() -> None:
    changes = {"device": {"storage_total_mb": 4096, "storage_free_mb": 450}}
    report = extract(doc_changes=changes)
    assert [f.message for f in report.findings] == [
        "Stockage presque plein : 450 Mo libres sur 4 Go (11 %)."]
    relaxed = ReportSettings(storage_low_mb=100, storage_low_percent=5)
    assert extract(relaxed, doc_changes=changes).findings == []


def test_sizes_within_rounding_are_not_disagreements() -> None:
    # The body says "64 Go (libre : 20 Go)"; 20 Go covers 19 968..20 992 Mo.
    assert extract(json_changes={"device": {"storage_free_mb": 20500}}).findings == []
    report = extract(json_changes={"device": {"storage_free_mb": 30000}})
    assert [(f.code, f.message) for f in report.findings] == [(
        "body_json_mismatch", "« Stockage libre » : 20 Go dans le message, 29,3 Go dans "
        "diagnostic.json (valeur de diagnostic.json retenue).")]


def test_impossible_negative_and_invalid_json_values() -> None:
    report = extract(json_changes={
        "device": {"ram_free_mb": 5000, "storage_free_mb": -5, "battery_percent": 140},
        "sync": {"last_success_at": "hier soir"}, "usage": {"students": "vingt-sept"},
        "request": {"priority": "très urgente"}})
    assert [(f.code, f.where) for f in report.findings] == [
        ("negative_value", "diagnostic.json, device.storage_free_mb"),
        ("impossible_value", "diagnostic.json, sync.last_success_at"),
        ("invalid_field", "diagnostic.json, usage.students"),
        ("invalid_field", "diagnostic.json, request.priority"),
        ("body_json_mismatch", "diagnostic.json, device.ram_free_mb"),
        ("impossible_value", "diagnostic.json, device.ram_free_mb"),
        ("impossible_value", "diagnostic.json, device"),  # battery_percent: unknown key
    ]
    assert report.findings[0].message == ("diagnostic.json : device.storage_free_mb ignoré "
                                          "(valeur négative).")
    assert report.findings[1].message == ("diagnostic.json : sync.last_success_at ignoré "
                                          "(date illisible).")
    # Dropped JSON values fall back to the body; no "never synced" for an unreadable date.
    assert report.storage_free_mb == 20480 and report.priority == "urgente"
    assert report.students_total == 6 and "sync_never" not in report.finding_codes()


def test_count_and_duplicate_findings() -> None:
    eleves = ("id;nom;prenom;cree_le;derniere_activite;statut\n"
              "E-0001;Fontaine;Léa;2024-09-02;;actif\n"
              "E-0002;N'Diaye;Moussa;2024-09-02;;inactif\n"
              "E-0002;N'Diaye;Moussa;2024-09-02;;inactif\n"
              ";Benali;Inès;2024-09-02;pas une date;en vacances\n").encode()
    report = extract(eleves_bytes=eleves, json_changes={"usage": {"students": 27}})
    assert [(f.code, f.message, f.where) for f in report.findings] == [
        ("invalid_field", "eleves.csv : statut inconnu sur 1 ligne (attendu : actif ou "
         "inactif).", "eleves.csv, ligne 5"),
        ("impossible_value", "eleves.csv : date illisible sur 1 ligne.", "eleves.csv, ligne 5"),
        ("duplicate_student_id", f"eleves.csv : 1 identifiant présent sur plusieurs lignes "
         f"({P['E-0002']}).", "eleves.csv, ligne 4"),
        ("orphan_media", f"4 lignes de medias.csv pour un élève absent de eleves.csv "
         f"({P['E-0003']}, {P['E-0004']}, {P['E-0005']}…).", "medias.csv, lignes 4, 5, 6…"),
        ("count_mismatch", "diagnostic.json annonce 27 élèves, eleves.csv en contient 4.",
         "diagnostic.json, usage.students"),
    ]
    # A row without an id is pseudonymised from its normalised names.
    assert report.students[3].pseudonym == pseudonymise("nom:inès benali")
    assert report.scrub("Inès") == f"[{pseudonymise('nom:inès benali')}]"


def test_missing_attachments_for_complet() -> None:
    report = extract(journal=None)
    assert [(f.code, f.message) for f in report.findings] == [(
        "missing_attachment", "Niveau de détail « complet » mais pièce jointe absente : "
        "journal-24h.log.")]
    assert report.error_codes == JSON_ERRORS


def test_sensitive_columns_present_despite_exclusion() -> None:
    report = extract(doc_changes={"request": {"sensitive_data": "exclues"}})
    assert report.finding_codes() == ["sensitive_data_present"]
    assert report.sensitive_data == "exclues"


# --- signature --------------------------------------------------------------------------

def test_signature_uses_last_error_then_most_frequent_then_most_recent() -> None:
    assert extract().signature == "2.2.5|SYNC-504"
    assert extract(json_changes={"sync": {"last_error": " auth-401 "}}).signature == \
        "2.2.5|AUTH-401"
    assert extract(json_changes={"sync": {"last_error": None}}).signature == "2.2.5|SYNC-504"
    tie = (b"2025-04-06T08:00:00+02:00 ERROR AUTH-401 a\n"
           b"2025-04-06T08:30:00+02:00 ERROR SYNC-504 b\n"
           b"2025-04-06T09:00:00+02:00 ERROR AUTH-401 c\n"
           b"2025-04-06T07:00:00+02:00 ERROR SYNC-504 d (written late)\n")
    report = extract(journal_bytes=tie, json_changes={"sync": {"last_error": None}})
    assert report.error_codes == {"AUTH-401": 2, "SYNC-504": 2}
    assert report.main_error_code == "AUTH-401"  # seen last at 09:00
    assert extract(forwarded="inline").signature is None


# --- recognition -------------------------------------------------------------------------

def test_is_report_by_header_attachment_or_body() -> None:
    assert not is_report(parse_mail(make_mail()))
    label_only = make_mail("Bonjour,\n\nVersion de l'application\u00a0: 2.2.4\n")
    assert is_report(parse_mail(label_only))
    assert is_report(parse_mail(make_mail("Rien ici", X_ECarnet_Report="1")))
    assert is_report(parse_mail(build_report_mail(forwarded="attached")))
    assert not is_report(parse_mail(make_mail("Version : 2.2.5\nApplication : e-carnet")))


# --- no names anywhere ----------------------------------------------------------------------

NAME_WORDS = sorted({w for _, last, first in CLASS for w in (last, first)})
_NAMES = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, NAME_WORDS)) + r")(?!\w)",
                    re.IGNORECASE)


@pytest.mark.parametrize("options", [
    {}, {"english": True}, {"cp1252": True}, {"forwarded": "attached"}, {"malformed_csv": True},
    {"orphan_media": True, "missing_media_rows": 3}, {"disagree": True},
    {"json_changes": {"device": {"ram_total_mb": "Léa Fontaine"},
                      "request": {"priority": "Moussa", "recipient": "Chloé"},
                      "errors": [{"code": "SYNC-504", "at": "Théo Garnier"}]}},
], ids=lambda o: ",".join(o) or "default")
def test_no_student_name_in_json_repr_or_findings(options: dict[str, Any]) -> None:
    report = extract(**options)
    exported = json.dumps(report.to_json(), ensure_ascii=False)
    assert _NAMES.findall(exported) == []
    assert _NAMES.findall(repr(report)) == []
    assert _NAMES.findall(" ".join(f"{f.message} {f.where}" for f in report.findings)) == []
    assert report.scrub("Léa Fontaine") != "Léa Fontaine"


def test_names_in_body_labels_are_not_echoed_in_findings() -> None:
    raw = build_report_mail(forwarded="inline").replace(
        b"Priorit=C3=A9=E2=80=AF: urgente", b"Priorit=C3=A9 : L=C3=A9a Fontaine")
    report = extract_report(parse_mail(raw), ReportSettings(), pseudonymise)
    assert ("invalid_field", "« Priorité » : valeur non reconnue dans le corps du message.") \
        in [(f.code, f.message) for f in report.findings]
    assert report.priority is None
