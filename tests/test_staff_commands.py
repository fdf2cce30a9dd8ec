"""Tests for mailbot.staff_commands: every command in French and English, errors, the block."""

from __future__ import annotations

import re

import pytest

from mailbot import staff_commands
from mailbot.staff_commands import HELP, Command, CommandBlock, HelpEntry, parse_commands
from mailbot.store.models import TicketStatus
from mailbot.triage import PRIORITY_ORDER, TEAM_LABEL


def one(line: str) -> Command:
    """The single command of a one-line block (fails on an error)."""
    block = parse_commands(line)
    assert block.errors == (), block.errors
    assert len(block.commands) == 1, block.commands
    return block.commands[0]


def error(line: str) -> str:
    """The single error of a one-line block."""
    block = parse_commands(line)
    assert block.commands == ()
    assert len(block.errors) == 1, block.errors
    return block.errors[0]


def test_canonical_values_agree_with_the_database_and_triage():
    assert [s.value for s in TicketStatus] == [
        staff_commands.NEW, staff_commands.ANALYSING, staff_commands.SOLUTION_PROPOSED,
        staff_commands.RESOLVED, staff_commands.CLOSED]
    assert staff_commands.PRIORITIES == PRIORITY_ORDER
    assert set(staff_commands.TEAMS) == set(TEAM_LABEL.values())


# --- status ----------------------------------------------------------------

@pytest.mark.parametrize("line, status", [
    ("#statut nouvelle", "nouvelle demande"),
    ("#statut nouvelle demande", "nouvelle demande"),
    ("#status new", "nouvelle demande"),
    ("#statut en cours", "en cours d'analyse"),
    ("#statut en cours d'analyse", "en cours d'analyse"),
    ("#statut En cours d’analyse", "en cours d'analyse"),
    ("#status in-progress", "en cours d'analyse"),
    ("#status in progress", "en cours d'analyse"),
    ("#status In_Progress", "en cours d'analyse"),
    ("#status analysing", "en cours d'analyse"),
    ("#status analyzing", "en cours d'analyse"),
    ("#statut solution", "solution proposée"),
    ("#statut solution proposée", "solution proposée"),
    ("#status solution-proposed", "solution proposée"),
    ("#status proposed solution", "solution proposée"),
    ("#statut résolu", "résolu"),
    ("#statut resolu", "résolu"),
    ("#status resolved", "résolu"),
    ("#statut fermé", "fermé"),
    ("#statut FERME", "fermé"),
    ("#status closed", "fermé"),
    ("#Statut: en cours", "en cours d'analyse"),
    ("#STATUS : Resolved.", "résolu"),
    ("#état en cours", "en cours d'analyse"),
    ("#statut « en cours »", "en cours d'analyse"),
    ("#statut:en cours", "en cours d'analyse"),
])
def test_status(line, status):
    assert one(line) == Command("status", status, line)


def test_status_errors_list_the_valid_values():
    assert error("#statut fini") == (
        "#statut: unknown status 'fini' (valid: nouvelle, en cours, solution, résolu, fermé / "
        "new, in-progress, solution-proposed, resolved, closed)")
    assert error("#status").startswith("#status: missing status (valid: nouvelle,")
    assert error("#statut :").startswith("#statut: missing status")


# --- solution, resolved, close ---------------------------------------------

@pytest.mark.parametrize("line, name", [
    ("#solution", "solution"),
    ("#Solution", "solution"),
    ("#solution proposée", "solution"),
    ("#solution proposed", "solution"),
    ("#résolu", "resolved"),
    ("#Résolu", "resolved"),
    ("#resolu", "resolved"),
    ("#RESOLVED", "resolved"),
    ("#résolue", "resolved"),
    ("#fermer", "close"),
    ("#fermé", "close"),
    ("#FERMÉ !", "close"),
    ("#close", "close"),
    ("#closed", "close"),
    ("#clos.", "close"),
])
def test_commands_without_value(line, name):
    assert one(line) == Command(name, "", line)


def test_commands_without_value_refuse_other_words():
    assert error("#résolu merci") == "#résolu: takes no value (got 'merci')"
    assert error("#close now") == "#close: takes no value (got 'now')"
    assert error("#solution en cours") == "#solution: takes no value (got 'en cours')"


# --- priority and team -----------------------------------------------------

@pytest.mark.parametrize("line, value", [
    ("#priorité urgente", "urgente"),
    ("#priorite Urgente", "urgente"),
    ("#PRIORITÉ: importante", "importante"),
    ("#priorité normale", "normale"),
    ("#priority urgent", "urgente"),
    ("#priority important", "importante"),
    ("#priority high", "importante"),
    ("#priority normal", "normale"),
])
def test_priority(line, value):
    assert one(line) == Command("priority", value, line)


@pytest.mark.parametrize("line, value", [
    ("#équipe pédagogique", "pédagogique"),
    ("#equipe pedagogique", "pédagogique"),
    ("#Équipe Technique", "technique"),
    ("#team technical", "technique"),
    ("#team tech", "technique"),
    ("#team pedagogical", "pédagogique"),
    ("#team teaching", "pédagogique"),
])
def test_team(line, value):
    assert one(line) == Command("team", value, line)


def test_priority_and_team_errors():
    assert error("#priorité maximale") == (
        "#priorité: unknown priority 'maximale' (valid: normale, importante, urgente / "
        "normal, important, urgent)")
    assert error("#team") == ("#team: missing team (valid: technique, pédagogique / "
                              "technical, teaching)")
    assert error("#équipe commerciale").startswith("#équipe: unknown team 'commerciale'")


# --- assign ----------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "#assigner marie@ecarnet.fr",
    "#assign Marie@Ecarnet.FR",
    "#assigner Marie Durand <marie@ecarnet.fr>",
    "#assigner \"Durand, Marie\" <marie@ecarnet.fr>",
    "#assigner <marie@ecarnet.fr>",
    "#assigner: marie@ecarnet.fr.",
    "#assign mailto:marie@ecarnet.fr",
])
def test_assign(line):
    assert one(line) == Command("assign", "marie@ecarnet.fr", line)


@pytest.mark.parametrize("value", [
    "marie", "marie@", "@ecarnet.fr", "marie@@ecarnet.fr", "marie @ecarnet.fr",
    "marie@ecarnet", "marie@ecarnet..fr", "Marie <marie>", "marie@ecarnet.fr jean@ecarnet.fr",
])
def test_assign_refuses_what_is_not_an_address(value):
    assert error(f"#assigner {value}") == f"#assigner: {value!r} is not an email address"


def test_assign_without_address():
    assert error("#assign") == "#assign: missing address"


# --- note ------------------------------------------------------------------

def test_note_takes_the_rest_of_the_line_as_written():
    assert one("#note rappeler l'enseignante lundi") == Command(
        "note", "rappeler l'enseignante lundi", "#note rappeler l'enseignante lundi")
    assert one("#Note: #urgent? vérifier le serveur").value == "#urgent? vérifier le serveur"
    assert one("#note").value == ""
    assert one("#note\u00a0: voir\u00a0ticket").value == "voir\u00a0ticket"


# --- merge -----------------------------------------------------------------

@pytest.mark.parametrize("line, ref", [
    ("#fusionner ECN-4F7K2Q", "ECN-4F7K2Q"),
    ("#fusionner ecn-4f7k2q", "ECN-4F7K2Q"),
    ("#fusionner [#ECN-4F7K2Q]", "ECN-4F7K2Q"),
    ("#fusionner avec ECN-4F7K2Q", "ECN-4F7K2Q"),
    ("#merge ECN-4O7KIQ", "ECN-407K1Q"),
    ("#merge into [#ECN-4F7K2Q].", "ECN-4F7K2Q"),
    ("#fusion: ECN-4F7K2Q", "ECN-4F7K2Q"),
])
def test_merge(line, ref):
    assert one(line) == Command("merge", ref, line)


@pytest.mark.parametrize("value", [
    "4F7K2Q", "ECN-4F7U2Q", "ECN-4F7K", "ECN-4F7K2QX", "ECN-4F7K2Q ECN-AAAAAA", "le ticket",
])
def test_merge_refuses_what_is_not_one_tracking_number(value):
    assert error(f"#fusionner {value}") == (
        f"#fusionner: {value!r} is not a tracking number like ECN-4F7K2Q")


def test_merge_without_reference():
    assert error("#merge") == "#merge: missing tracking number"


# --- unknown commands and the block ----------------------------------------

def test_unknown_commands_are_reported_by_name():
    assert error("#foo") == "unknown command #foo"
    assert error("#Bonjour, merci") == "unknown command #Bonjour"
    assert error("# statu en cours") == "unknown command #statu"


def test_one_error_per_invalid_line_and_valid_lines_kept():
    block = parse_commands("#statut en cours\n#priorité max\n#foo\n#note ok\n\nTexte")
    assert [c.name for c in block.commands] == ["status", "note"]
    assert block.errors == (
        "#priorité: unknown priority 'max' (valid: normale, importante, urgente / "
        "normal, important, urgent)",
        "unknown command #foo")
    assert block.text == "Texte"


def test_a_realistic_staff_mail():
    mail = ("\r\n  #statut: en cours\r\n#priorité urgente\r\n\r\n#assigner Marie Durand "
            "<marie@ecarnet.fr>\r\nBonjour Madame,\r\n\r\nNous regardons la synchronisation. "
            "#merci\r\n#statut résolu\r\n\r\n-- \r\nJean, support e-carnet\r\n\r\n"
            "Le 14 janv. 2025 à 09:12, Claire <claire@college.fr> a écrit :\r\n"
            "> #urgent plus rien ne marche\r\n")
    block = parse_commands(mail)
    assert block == CommandBlock(
        commands=(Command("status", "en cours d'analyse", "#statut: en cours"),
                  Command("priority", "urgente", "#priorité urgente"),
                  Command("assign", "marie@ecarnet.fr",
                          "#assigner Marie Durand <marie@ecarnet.fr>")),
        errors=(),
        text=("Bonjour Madame,\n\nNous regardons la synchronisation. #merci\n#statut résolu\n"
              "\n-- \nJean, support e-carnet\n\nLe 14 janv. 2025 à 09:12, Claire "
              "<claire@college.fr> a écrit :\n> #urgent plus rien ne marche\n"))


def test_hashtags_further_down_are_text():
    block = parse_commands("Bonjour,\n#statut résolu\n#foo")
    assert block == CommandBlock((), (), "Bonjour,\n#statut résolu\n#foo")


@pytest.mark.parametrize("first_line", [
    "> #statut résolu", "-- ", "#1 point à vérifier", "## Titre", "#", "Bonjour #statut résolu",
])
def test_lines_that_are_not_commands_end_the_block(first_line):
    block = parse_commands(f"{first_line}\n#résolu")
    assert block == CommandBlock((), (), f"{first_line}\n#résolu")


def test_commands_only_mail_has_no_text():
    assert parse_commands("#résolu\n\n\n").text == ""
    assert parse_commands("#résolu\r\n-- \r\nJean").text == "-- \nJean"


def test_empty_and_plain_text():
    assert parse_commands("") == CommandBlock((), (), "")
    assert parse_commands("\n\nBonjour\n\n").text == "Bonjour\n\n"


def test_line_endings_bom_and_invisible_spaces():
    block = parse_commands("\ufeff#résolu\r#priorité\u202furgente\r\n\u200b#note x\rSuite")
    assert [(c.name, c.value) for c in block.commands] == [
        ("resolved", ""), ("priority", "urgente"), ("note", "x")]
    assert block.text == "Suite"
    nbsp = parse_commands("\u00a0#statut\u00a0:\u00a0en\u00a0cours\u00a0\nTexte")
    assert nbsp.commands[0].value == "en cours d'analyse"
    assert nbsp.commands[0].line == "#statut\u00a0:\u00a0en\u00a0cours"


def test_decomposed_accents():
    assert one("#re\u0301solu").name == "resolved"
    assert one("#priorite\u0301 urgente").value == "urgente"


# --- help ------------------------------------------------------------------

def test_help_covers_every_command_in_both_languages():
    assert all(isinstance(entry, HelpEntry) and all(entry) for entry in HELP)
    names = set()
    for entry in HELP:
        for syntax in (entry.syntax_fr, entry.syntax_en):
            names.add(one(syntax.split(" | ")[0].replace("[", "").replace("]", "")).name)
    assert names == {"status", "solution", "resolved", "close", "priority", "team", "assign",
                     "note", "merge"}


@pytest.mark.parametrize("entry", HELP, ids=lambda e: e.syntax_en.split()[0])
def test_every_value_shown_in_help_is_accepted(entry):
    for syntax in (entry.syntax_fr, entry.syntax_en):
        command, _, values = syntax.partition(" ")
        for value in re.split(r"\s*\|\s*", values.strip("[]")) if values else [""]:
            assert one(f"{command} {value}".strip()).name


def test_help_unpacks_as_four_strings_for_templates():
    syntax_fr, syntax_en, meaning_fr, meaning_en = HELP[0]
    assert syntax_fr.startswith("#statut") and syntax_en.startswith("#status")
    assert "statut" in meaning_fr and "status" in meaning_en
