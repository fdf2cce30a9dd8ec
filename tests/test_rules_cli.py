"""`mailbot rules check|test` and the shipped rule set on realistic mail."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from typer.testing import CliRunner

from mailbot.cli_rules import rules_app
from mailbot.rules import load_rules
from mailbot.rules.cond_report import FINDING_CODES
from mailbot.rules.dryrun import DryRun, dry_run
from tests.mails import make_mail
from tests.reportmail import build_report_mail

ROOT = Path(__file__).resolve().parents[1]
RULES, TEMPLATES = ROOT / "rules", ROOT / "templates"
runner = CliRunner()
ACK_VARIABLES = {"ticket_ref": "ECN-4F7K2Q", "requester_name": "Élodie Martin",
                 "original_subject": "Mot de passe", "received_on": "23 novembre 2026 à 08:12",
                 "support_name": "Support e-carnet", "is_report": False, "priority": "urgente",
                 "suggestions": [{"title": "Mot de passe oublié", "excerpt": "La procédure.",
                                  "url": None}]}


@pytest.fixture(autouse=True)
def _no_config(monkeypatch, tmp_path):
    monkeypatch.delenv("MAILBOT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # keys: none here, and none created (create=False)


def dry(tmp_path: Path, raw: bytes, *args: str) -> dict:
    """``rules test --json`` on *raw* with the shipped rules."""
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    result = runner.invoke(rules_app, ["test", str(path), "--json", "--rules", str(RULES), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def run(raw: bytes, at: dt.datetime | None = None) -> DryRun:
    """The dry run behind ``rules test``, through the Python API (default config)."""
    from mailbot.config import load_config
    from mailbot.intake import own_identity
    from mailbot.privacy import load_keys
    from mailbot.reports import ReportSettings

    cfg = load_config(None)
    return dry_run(raw, load_rules(RULES, TEMPLATES), own_identity(cfg.identity),
                   ReportSettings(**cfg.reports.model_dump()),
                   load_keys(cfg.privacy.keys_file, create=False),
                   cfg.identity.default_language, at)


def decided(raw: bytes) -> dict:
    """The merged decision the shipped rules take on *raw*."""
    return run(raw).decision.summary()


def test_check_passes_on_the_shipped_rules():
    result = runner.invoke(rules_app, ["check", str(RULES)])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"\d+ rules in \d+ files OK\n", result.output)
    assert runner.invoke(rules_app, ["check"]).output == result.output  # default: rules/
    assert len(load_rules(RULES, TEMPLATES)) >= 14
    assert not (Path.cwd() / "mailbot.keys").exists()


def test_check_on_a_broken_folder_exits_1_with_file_and_line(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "10.toml").write_text('[[rule]]\nname = "r"\ndescription = "d"\n'
                                    'when.text_regex = "(["\nthen.tags = ["x"]\n')
    result = runner.invoke(rules_app, ["check", str(folder)])
    assert result.exit_code == 1
    assert result.output.startswith("rules/10.toml:4: r.when.text_regex: invalid regular")


def test_every_template_named_by_a_shipped_rule_exists_in_fr_and_en_and_renders():
    names = {value for rule in load_rules(RULES).rules for action, value in rule.actions
             if action == "auto_reply"}
    assert names == {"mot_de_passe"}
    env = SandboxedEnvironment(undefined=StrictUndefined)
    for name in names:
        for lang in ("fr", "en"):
            for part in ("subject", "txt"):
                text = (TEMPLATES / f"{name}.{lang}.{part}.j2").read_text(encoding="utf-8")
                rendered = env.from_string(text).render(**ACK_VARIABLES)
                assert "ECN-4F7K2Q" in rendered


def test_finding_codes_cover_what_reports_emit():
    emitted = set()
    for path in (ROOT / "mailbot" / "reports").glob("*.py"):
        emitted |= set(re.findall(r'Finding\(\s*"(\w+)"', path.read_text(encoding="utf-8")))
    assert emitted and emitted <= FINDING_CODES


def test_dry_run_json_matched_actions_and_trace(tmp_path):
    data = dry(tmp_path, make_mail("Bonjour,\n\nJ'ai oublié mon mot de passe, "
                                   "connexion impossible depuis ce matin.\n\nMerci\n",
                                   Subject="Connexion"))
    assert data.keys() == {"matched", "actions", "trace"}  # exactly these, nothing else
    assert {"rule": "mot-de-passe", "file": "50-mot-de-passe.toml"} in data["matched"]
    assert {"rule": "mot-de-passe", "file": "50-mot-de-passe.toml", "action": "auto_reply",
            "value": "mot_de_passe"} in data["actions"]
    rules = [r.name for r in load_rules(RULES).rules]
    assert [t["rule"] for t in data["trace"]] == rules  # every rule, in order
    by_rule = {t["rule"]: t for t in data["trace"]}
    assert by_rule["mot-de-passe"]["outcome"] == "matched"
    assert "« mot de passe »" in by_rule["mot-de-passe"]["detail"]
    assert by_rule["export-pdf"] == {
        "rule": "export-pdf", "file": "60-export-pdf.toml", "outcome": "no match",
        "detail": "words: none of « export* », « pdf », « imprimer le carnet », "
                  "« imprimer le livret » (+10) in the subject or the text"}
    assert not (Path.cwd() / "mailbot.keys").exists()


def test_dry_run_english_password_mail(tmp_path):
    result = run(make_mail("Hello,\n\nI forgot my password and cannot log in to the "
                           "app. Could you help me?\n\nThanks\n", Subject="Password"))
    assert result.facts.language == "en"
    assert result.decision.auto_replies == ["mot_de_passe"]


def test_dry_run_on_a_report(tmp_path):
    data = dry(tmp_path, build_report_mail(app_version="2.2.4", storage_full=True))
    decision = decided(build_report_mail(app_version="2.2.4", storage_full=True))
    assert decision["tags"][:3] == ["synchronisation", "stockage", "version-obsolete"]
    assert decision["priority"] == "urgente" and decision["team"] == "technique"
    assert decision["auto_replies"] == []  # no password auto-reply for a report
    details = " ".join(t["detail"] for t in data["trace"])
    assert "Fontaine" not in details and "Léa" not in details  # student names never shown


def test_urgent_words_only_in_new_text_and_not_when_denied(tmp_path):
    quoted = make_mail("Merci, c'est réglé.\n\nLe lun. 23 nov. 2026 à 08:12, Support a écrit :\n"
                       "> C'est urgent, tout est bloqué !\n", Subject="Re: question")
    assert decided(quoted)["priority"] is None
    calm = make_mail("Bonjour,\n\nPetite question sur l'export, ce n'est pas urgent.\n",
                     Subject="Question")
    assert decided(calm)["priority"] is None
    urgent = make_mail("Bonjour,\n\nL'inspection demain et plus rien ne marche !\n",
                       Subject="Aide")
    assert decided(urgent)["priority"] == "urgente"


def test_pedagogy_goes_to_the_pedagogical_team_unless_technical(tmp_path):
    question = make_mail("Bonjour,\n\nComment évaluer les compétences du socle commun dans "
                         "le livret ?\n", Subject="Évaluations")
    assert decided(question)["team"] == "pedagogique"
    export = make_mail("Bonjour,\n\nL'export PDF du livret ne fonctionne pas.\n",
                       Subject="Livret")
    assert decided(export)["team"] == "technique"


@pytest.mark.parametrize(("text", "rule"), [
    ("Bonjour,\n\nOù trouve-t-on l'identifiant d'un élève dans la fiche ?\n", "mot-de-passe"),
    ("Bonjour,\n\nmon imprimante n'imprime plus\n", "export-pdf"),
    ("Bonjour,\n\nle bulletin météo annonce de la pluie\n", "question-pedagogique"),
])
def test_ordinary_mails_do_not_fire_theme_rules(text, rule):
    result = run(make_mail(text, Subject="Question"))
    assert rule not in [h.rule for h in result.decision.matched]
    assert result.decision.auto_replies == []


@pytest.mark.parametrize(("text", "rule"), [
    ("Bonjour,\n\nIdentifiant incorrect à chaque essai.\n", "mot-de-passe"),
    ("Bonjour,\n\nJe n'arrive pas à imprimer le carnet de Léo.\n", "export-pdf"),
    ("Bonjour,\n\nL'impression du portfolio coupe les photos.\n", "export-pdf"),
    ("Bonjour,\n\nComment préparer les bulletins scolaires ?\n", "question-pedagogique"),
])
def test_theme_phrases_still_fire(text, rule):
    assert rule in [h.rule for h in run(make_mail(text, Subject="Question")).decision.matched]


NEWSLETTER = make_mail("Lettre d'information de novembre.\nPour vous désabonner : "
                       "désabonnement en un clic. Mot de passe, export PDF, urgent !\n",
                       Subject="Newsletter", List_Id="<news.ecarnet.example>",
                       List_Unsubscribe="<mailto:u@x.example>")


def test_machine_mail_is_not_evaluated_as_in_production(tmp_path):
    data = dry(tmp_path, NEWSLETTER)
    assert data["matched"] == [] and data["actions"] == []
    assert [t["rule"] for t in data["trace"]] == [r.name for r in load_rules(RULES).rules]
    assert {(t["outcome"], t["detail"]) for t in data["trace"]} == {
        ("not evaluated", "machine mail (kind list)")}
    path = tmp_path / "m.eml"
    text = runner.invoke(rules_app, ["test", str(path), "--rules", str(RULES)]).output
    assert "not evaluated: machine mail (kind list)" in text and "matched: no rule" in text
    person = make_mail("Bonjour,\n\nComment faire le désabonnement des notifications ?\n",
                       Subject="Désabonnement")
    assert decided(person)["ignore_reason"] is None


def test_no_shipped_rule_targets_machine_mail():
    """Only normal mail reaches the rules: a rule on another kind could never fire."""
    def kinds(table: object) -> list[str]:
        if isinstance(table, dict):
            own = table.get("kind", [])
            return ([own] if isinstance(own, str) else list(own)) + [
                k for value in table.values() for k in kinds(value)]
        if isinstance(table, list):
            return [k for value in table for k in kinds(value)]
        return []

    for path in RULES.glob("*.toml"):
        for raw in tomllib.loads(path.read_text(encoding="utf-8")).get("rule", []):
            assert set(kinds(raw.get("when"))) <= {"normal"}, (path.name, raw["name"])
    assert not (RULES / "10-ignorer.toml").exists()


def test_dry_run_time_from_date_header_or_at(tmp_path):
    saturday = make_mail(Date="Sat, 28 Nov 2026 10:00:00 +0100")
    assert "hors-horaires" in [m["rule"] for m in dry(tmp_path, saturday)["matched"]]
    at_noon = dry(tmp_path, saturday, "--at", "2026-11-23T11:00:00+00:00")
    assert "hors-horaires" not in [m["rule"] for m in at_noon["matched"]]
    at = dt.datetime(2026, 11, 23, 11, tzinfo=dt.UTC)
    assert run(saturday, at).facts.received_at == at


def test_dry_run_text_summary_and_garbage(tmp_path):
    path = tmp_path / "garbage.eml"
    path.write_bytes(b"\x00\xff\xfe not a mail \x80\r\n\r\n--\r\n")
    result = runner.invoke(rules_app, ["test", str(path), "--rules", str(RULES)])
    assert result.exit_code == 0, result.output
    assert "matched:" in result.output and "trace:" in result.output
    assert "- mot-de-passe" in result.output


def test_dry_run_with_broken_rules_exits_1(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "10.toml").write_text("[[rule]]\nname = 1\n")
    path = tmp_path / "m.eml"
    path.write_bytes(make_mail())
    result = runner.invoke(rules_app, ["test", str(path), "--rules", str(folder)])
    assert result.exit_code == 1 and "rules/10.toml:2: rule[1].name" in result.output
