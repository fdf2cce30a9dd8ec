"""Rule conditions: text, sender, kind, language, report fields, attachments, time."""

from __future__ import annotations

import datetime as dt

import pytest

from mailbot.rules.text import FoldedText, WordMatcher, fold
from mailbot.rules.values import (
    parse_size_spec,
    parse_time_range,
    parse_version,
    parse_version_spec,
)
from tests.test_rules_helpers import REPORT, facts, hits, rule, ruleset


def test_fold_removes_accents_case_and_ligatures():
    assert fold("BLOQUÉ Élève œuvre") == "bloque eleve oeuvre"


@pytest.mark.parametrize("text", ["c'est bloqué", "BLOQUÉ !", "tout est bloque.", "Bloqué"])
def test_french_word_matches_any_accent_and_case(text):
    assert WordMatcher(["bloqué"]).find(FoldedText.of(text)) == "bloqué"


def test_words_are_whole_words_phrases_consecutive_and_star_is_a_prefix():
    matcher = WordMatcher(["urgent", "mot de passe", "synchronis*"])
    assert matcher.find(FoldedText.of("insurgent")) is None
    assert matcher.find(FoldedText.of("mot, de passe")) == "mot de passe"
    assert matcher.find(FoldedText.of("mot de ma passe")) is None
    assert matcher.find(FoldedText.of("Ça ne se SYNCHRONISE plus")) == "synchronis*"
    assert matcher.find(FoldedText.of("synchro")) is None
    assert WordMatcher(["e-carnet", "l'appli"]).find(FoldedText.of("l’appli E carnet")) \
        == "e-carnet"


@pytest.mark.parametrize("bad", ["!!", "syn*chro", "*bloque"])
def test_word_without_letters_or_misplaced_star_is_refused(bad):
    with pytest.raises(ValueError):
        WordMatcher([bad])


@pytest.mark.parametrize(("version", "spec", "expected"), [
    ("2.2.4", "<2.2.5", True), ("2.2.5", "<2.2.5", False), ("2.10", ">2.9", True),
    ("2.2", "==2.2.0", True), ("2.2.5 (build 2250)", ">=2.2.5", True),
    ("2.1.9", ">=2.0, <2.2.5", True), ("1.9", ">=2.0, <2.2.5", False),
    ("2.2.7", "2.2.*", True), ("2.3.0", "2.2.*", False), ("2.3.0", "!=2.2.*", True),
    ("3.0", "!=3", False),
])
def test_versions_compare_numerically(version, spec, expected):
    parsed = parse_version(version)
    assert parsed is not None and parse_version_spec(spec).matches(parsed) is expected


@pytest.mark.parametrize("bad", ["<abc", "", ">=2.0,", "<2.2.*"])
def test_bad_version_specs_are_refused(bad):
    with pytest.raises(ValueError):
        parse_version_spec(bad)


def test_sizes_times_parse():
    assert parse_size_spec("> 10 Mo").matches(10 * 1024**2 + 1)
    assert not parse_size_spec("> 10 Mo").matches(10 * 1024**2)
    assert parse_size_spec("500 ko").limit == 500 * 1024  # no operator: at least
    assert parse_size_spec("<=1,5 Go").matches(1024**3)
    night = parse_time_range("19:00-08:00")
    assert night.contains(23 * 60) and night.contains(7 * 60 + 59)
    assert not night.contains(8 * 60) and not night.contains(12 * 60)
    assert parse_time_range("8h-12h30").contains(12 * 60 + 29)
    for bad in ("10 parsecs", "grand"):
        with pytest.raises(ValueError):
            parse_size_spec(bad)
    for bad in ("25:00-08:00", "8-8", "matin"):
        with pytest.raises(ValueError):
            parse_time_range(bad)


def test_text_conditions_look_where_they_say(tmp_path):
    rules = ruleset(tmp_path, rule('when.words = ["bloqué"]', name="both")
                    + rule('when.subject_words = "bloqué"', name="subject")
                    + rule('when.text_words = "bloqué"', name="text"))
    assert hits(rules, subject="BLOQUE") == ["both", "subject"]
    assert hits(rules, text="Tout est bloqué.") == ["both", "text"]
    assert hits(rules) == []


def test_regex_conditions_search_the_text_as_written(tmp_path):
    rules = ruleset(tmp_path, rule(r"""when.text_regex = 'SYNC-\d{3}'""", name="code")
                    + rule(r"""when.subject_regex = ['^re:\s*\[#ECN-']""", name="reply"))
    assert hits(rules, text="erreur sync-504 au démarrage") == ["code"]
    assert hits(rules, subject="RE: [#ECN-4F7K2Q] Demande") == ["reply"]
    trace = rules.evaluate(facts(text="erreur SYNC-504")).trace[0]
    assert trace.detail == r"text_regex: /SYNC-\d{3}/ matched « SYNC-504 »"


def test_sender_address_pattern_and_domain_with_subdomains(tmp_path):
    rules = ruleset(tmp_path, rule('when.sender = ["*@ac-lyon.fr", "Direction@*"]', name="addr")
                    + rule('when.sender_domain = "ac-lyon.fr"', name="domain"))
    assert hits(rules, sender="prof@ac-lyon.fr", sender_domain="ac-lyon.fr") == ["addr", "domain"]
    assert hits(rules, sender="direction@ecole.example") == ["addr"]
    assert hits(rules, sender="x@ecole.ac-lyon.fr", sender_domain="ecole.ac-lyon.fr") == [
        "domain"]
    assert hits(rules, sender="x@fac-lyon.fr", sender_domain="fac-lyon.fr") == []
    miss = rules.evaluate(facts()).trace[1]
    assert miss.detail == "sender_domain: ecole-jules-ferry.example is not in ac-lyon.fr"


def test_kind_and_language(tmp_path):
    rules = ruleset(tmp_path, rule('when.kind = ["list", "auto_reply"]', name="kind")
                    + rule('when.language = "en"', name="lang"))
    assert hits(rules, kind="list") == ["kind"]
    assert hits(rules, language="en") == ["lang"]
    assert hits(rules) == []


def test_report_field_conditions(tmp_path):
    conditions = {
        "report": "when.report = true", "no-report": "when.report = false",
        "version": 'when.app_version = "<2.2.5"', "os": 'when.os = ["ipados", "iOS"]',
        "os-version": 'when.os_version = ">=17"', "code": 'when.error_code = "sync-*"',
        "sync": 'when.sync_state = ["bloquée", "erreur"]',
        "priority": 'when.report_priority = "urgent"', "recipient": 'when.recipient = "technique"',
        "finding": 'when.finding = ["sync_never", "storage_low"]',
    }
    rules = ruleset(tmp_path, "".join(rule(w, name=n) for n, w in conditions.items()))
    assert hits(rules, report=REPORT) == [n for n in conditions if n != "no-report"]
    assert hits(rules) == ["no-report"]
    newer = {**REPORT, "app_version": "2.2.5", "os": "Android", "os_version": "14",
             "error_codes": {}, "main_error_code": None, "sync_state": "ok",
             "priority": "normale", "recipient": "pedagogique", "findings": []}
    assert hits(rules, report=newer) == ["report"]


def test_report_trace_shows_listed_fields_only(tmp_path):
    rules = ruleset(tmp_path, rule('when.app_version = ">=2.2.5"', name="v")
                    + rule('when.error_code = "DB-*"', name="c")
                    + rule('when.finding = "sync_never"', name="f"))
    trace = rules.evaluate(facts(report=REPORT)).trace
    assert [t.detail for t in trace] == [
        "app_version: 2.2.4 does not satisfy >=2.2.5",
        "error_code: SYNC-504, NET-12, none like DB-*",
        "finding: storage_low, app_outdated, none of sync_never",
    ]
    assert all("enseignant" not in t.detail for t in trace)
    assert rules.evaluate(facts()).trace[0].detail.endswith("no assistance report in this message")


def test_attachment_conditions(tmp_path):
    rules = ruleset(tmp_path,
                    rule('when.attachment = { type = "video/*", size = "> 20 Mo" }', name="big")
                    + rule('when.attachment = { name = ["*.PDF", "*.docx"] }', name="doc")
                    + rule("when.attachment = false", name="none"))
    video = ("classe.mov", "video/quicktime", 50 * 1024**2)
    assert hits(rules, attachments=(video,)) == ["big"]
    assert hits(rules, attachments=(("small.mov", "video/quicktime", 1000),)) == []
    assert hits(rules, attachments=(("Livret.pdf", "application/pdf", 9),)) == ["doc"]
    assert hits(rules) == ["none"]


def test_weekday_and_time_in_the_file_timezone(tmp_path):
    paris = rule('when.weekday = ["samedi", "Sunday"]', name="weekend") + rule(
        'when.time = "19:00-08:00"', name="night")
    rules = ruleset(tmp_path, paris, 'timezone = "America/Montreal"\n' + rule(
        'when.time = "03:00-04:00"', name="montreal"))
    saturday_noon = dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC)  # 12:00 Paris
    late_sunday = dt.datetime(2026, 11, 29, 22, 30, tzinfo=dt.UTC)  # 23:30 Paris
    early_monday = dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC)  # 03:30 Montréal
    assert hits(rules, received_at=saturday_noon) == ["weekend"]
    assert hits(rules, received_at=late_sunday) == ["weekend", "night"]
    assert hits(rules, received_at=early_monday) == ["montreal"]
    assert rules.evaluate(facts(received_at=early_monday)).trace[1].detail == \
        "time: 09:30 not in 19:00-08:00"


def test_combinators_all_any_not(tmp_path):
    rules = ruleset(tmp_path, rule(
        'when.all = [\n  { words = "export" },\n  { any = [\n    { words = "pdf" },\n'
        '    { words = "imprimer" },\n  ] },\n]\nwhen.not = { words = "pas urgent" }'))
    assert hits(rules, text="L'export PDF échoue") == ["r"]
    assert hits(rules, text="export : impossible d'imprimer") == ["r"]
    assert hits(rules, text="export du fichier") == []
    assert hits(rules, text="export pdf, pas urgent") == []
    trace = rules.evaluate(facts(text="export du fichier")).trace[0]
    assert trace.detail.startswith("any: words: none of « pdf »")
    matched = rules.evaluate(facts(text="export pdf")).trace[0]
    assert matched.outcome == "matched" and "« export »" in matched.detail


def test_when_keys_all_hold_in_the_order_written(tmp_path):
    rules = ruleset(tmp_path, rule('when.kind = "normal"\nwhen.words = "urgent"'))
    assert hits(rules, text="urgent") == ["r"]
    assert hits(rules, text="urgent", kind="list") == []
    assert rules.evaluate(facts(kind="list")).trace[0].detail == "kind: list is not normal"


def test_regex_shortcut_never_changes_the_answer(tmp_path):
    rules = ruleset(tmp_path, rule(r"""when.text_regex = 'SYNC-5\d\d|erreur\s+12'"""))
    for text, expected in [("Sync-504 encore", ["r"]), ("ERREUR   12", ["r"]), ("sync 504", []),
                           ("ſYNC-504", ["r"]),  # long s: the regex pairs it with "s"
                           ("İ erreur 12", ["r"])]:
        assert hits(rules, text=text) == expected, text


def test_facts_from_a_parsed_mail():
    from mailbot.parse import parse_mail
    from mailbot.rules import facts_from
    from tests.mails import make_mail

    parsed = parse_mail(make_mail("Bonjour,\n\nC'est bloqué.\n\nLe lun. 23 nov. 2026, "
                                  "Support a écrit :\n> urgent\n",
                                  From="Élodie <Elodie.Martin@Ecole.example>"))
    naive = dt.datetime(2026, 11, 23, 8, 30)
    facts = facts_from(parsed, "normal", "fr", None, naive)
    assert (facts.sender, facts.sender_domain) == ("elodie.martin@ecole.example", "ecole.example")
    assert "bloqué" in facts.text and "urgent" not in facts.text  # the quote is not new text
    assert facts.received_at.tzinfo is dt.UTC and facts.attachments == ()
    forward = parse_mail(make_mail("---------- Forwarded message ---------\nDe : X\n\n"
                                   "Tout est bloqué\n"))
    assert facts_from(forward, "normal", "fr", None, naive).text  # never empty for a forward
