"""Loading rule files: errors with file, line and key; reload on change; last good set kept."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from mailbot.rules import RuleError, RuleWatcher, load_rules
from mailbot.rules.conditions import CONDITIONS
from tests.test_rules_helpers import facts, rule

GOOD = rule('when.words = "urgent"', 'then.priority = "urgente"', name="urgence")
BROKEN_REGEX = """[[rule]]
name = "regex-cassee"
description = "une parenthèse oubliée"
when.any = [
  { words = "export" },
  { text_regex = "SYNC-(\\\\d+" },
]
then.tags = ["x"]
"""


def write(folder: Path, name: str, text: str, *, bump: int = 0) -> Path:
    """Write a rule file; *bump* moves its mtime forward so a change is seen at once."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    if bump:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump * 1_000_000_000))
    return path


def errors_of(folder: Path, templates: Path | None = None) -> list[tuple[str, int, str, str]]:
    with pytest.raises(RuleError) as caught:
        load_rules(folder, templates)
    return [(Path(e.file).name, e.line, e.key, e.message) for e in caught.value.errors]


def test_bad_regex_names_file_line_and_key(tmp_path):
    write(tmp_path, "10-export.toml", BROKEN_REGEX)
    [(file, line, key, message)] = errors_of(tmp_path)
    assert (file, line, key) == ("10-export.toml", 6, "regex-cassee.when.any[1].text_regex")
    assert message.startswith("invalid regular expression")
    assert str(RuleError([("f.toml", 6, "k", "m")])) == "f.toml:6: k: m"


def test_every_error_of_every_file_is_listed(tmp_path):
    write(tmp_path, "10-a.toml", GOOD + """
[[rule]]
name = "fautes"
description = "plusieurs fautes"
when.app_version = "<deux"
when.sync_state = "coincée"
when.finding = "storage_lo"
when.textwords = "x"
then.team = "compta"
then.priorty = "urgente"
""")
    write(tmp_path, "20-b.toml", 'timezone = "Europe/Pariss"\ncouleur = "bleu"\n' + GOOD)
    write(tmp_path, "30-c.toml", '[[rule]]\nname = "x"\ndescription = "oops\n')
    found = [(f, line, k) for f, line, k, _ in errors_of(tmp_path)]
    assert found == [
        ("10-a.toml", 10, "fautes.when.app_version"), ("10-a.toml", 11, "fautes.when.sync_state"),
        ("10-a.toml", 12, "fautes.when.finding"), ("10-a.toml", 13, "fautes.when.textwords"),
        ("10-a.toml", 14, "fautes.then.team"), ("10-a.toml", 15, "fautes.then.priorty"),
        ("20-b.toml", 1, "timezone"), ("20-b.toml", 2, "couleur"),
        ("20-b.toml", 3, "urgence.name"),  # duplicate of 10-a.toml's
        ("30-c.toml", 3, "toml"),
    ]
    messages = {k: m for _, _, k, m in errors_of(tmp_path)}
    assert messages["fautes.when.textwords"] == \
        "unknown condition 'textwords' (did you mean 'text_words'?)"
    assert messages["fautes.then.priorty"] == "unknown key 'priorty' (did you mean 'priority'?)"
    assert "first in 10-a.toml:1" in messages["urgence.name"]


@pytest.mark.parametrize(("text", "key"), [
    (rule('when.words = "x"', "then = {}"), "r.then"),
    ('[[rule]]\nname = "r"\ndescription = "d"\nthen.tags = ["x"]\n', "r.when"),
    (rule("when = {}"), "r.when"),
    (rule('when.any = []'), "r.when.any"),
    (rule('when.not = "x"'), "r.when.not"),
    (rule('when.words = ""'), "r.when.words"),
    (rule('when.words = "x"', 'then.status = "ouvert"'), "r.then.status"),
    (rule('when.words = "x"', "then.stop = false"), "r.then.stop"),
    (rule('when.attachment = { nom = "*.pdf" }'), "r.when.attachment"),
    (rule('when.weekday = "jourdi"'), "r.when.weekday"),
    (rule('when.kind = "spam"'), "r.when.kind"),
    (rule('when.words = "x"', 'then.tags = ["deux mots"]'), "r.then.tags.0"),
    (rule('when.words = "x"').replace('name = "r"', 'name = "Règle"'), "Règle.name"),
    (rule('when.words = "x"').replace('name = "r"', 'name = "deux mots"'), "rule[1].name"),
])
def test_invalid_rules_are_refused(tmp_path, text, key):
    write(tmp_path, "10.toml", text)
    assert [k for _, _, k, _ in errors_of(tmp_path)] == [key]


def test_auto_reply_template_must_exist_when_templates_are_given(tmp_path):
    write(tmp_path / "rules", "10.toml", rule('when.words = "x"', 'then.auto_reply = "inconnu"'))
    assert load_rules(tmp_path / "rules")  # not checked without a templates folder
    [(_, line, key, message)] = errors_of(tmp_path / "rules", tmp_path / "templates")
    assert (line, key) == (5, "r.then.auto_reply") and "inconnu.fr.txt.j2" in message
    for part in ("subject", "txt"):
        write(tmp_path / "templates", f"inconnu.fr.{part}.j2", "x")
    assert len(load_rules(tmp_path / "rules", tmp_path / "templates")) == 1


def test_missing_or_empty_folder(tmp_path):
    assert errors_of(tmp_path / "absent")[0][2:] == ("directory", "no such folder")
    assert len(load_rules(tmp_path)) == 0
    write(tmp_path, ".#10.toml", "garbage [[[")  # editor files are not rule files
    write(tmp_path, "notes.txt", "garbage [[[")
    assert len(load_rules(tmp_path)) == 0


def test_watcher_reloads_when_a_file_changes(tmp_path):
    path = write(tmp_path, "10.toml", GOOD)
    watcher = RuleWatcher(tmp_path)
    first = watcher.current()
    assert watcher.current() is first  # unchanged: same object, nothing reloaded
    assert first.evaluate(facts(text="urgent")).priority == "urgente"
    write(tmp_path, "10.toml", GOOD.replace("urgente", "importante"), bump=1)
    assert watcher.current().evaluate(facts(text="urgent")).priority == "importante"
    write(tmp_path, "20.toml", rule('when.words = "pdf"', 'then.tags = ["pdf"]', name="pdf"))
    assert [r.name for r in watcher.current().rules] == ["urgence", "pdf"]
    path.unlink()
    assert [r.name for r in watcher.current().rules] == ["pdf"]


def test_invalid_file_keeps_the_previous_set_and_reports_once(tmp_path, caplog):
    write(tmp_path, "10.toml", GOOD)
    reported: list[RuleError] = []
    watcher = RuleWatcher(tmp_path, on_error=reported.append)
    before = watcher.current()
    write(tmp_path, "20-export.toml", BROKEN_REGEX)
    assert watcher.current() is before and watcher.current() is before
    [error] = reported  # once per change, not once per message
    assert "20-export.toml:6: regex-cassee.when.any[1].text_regex: invalid" in str(error)
    assert watcher.last_error is error
    write(tmp_path, "20-export.toml", BROKEN_REGEX.replace("(", ""), bump=1)
    assert [r.name for r in watcher.current().rules] == ["urgence", "regex-cassee"]
    assert watcher.last_error is None and len(reported) == 1

    logged = RuleWatcher(tmp_path)  # without on_error: the mailbot.rules logger
    write(tmp_path, "30.toml", "[[rule]]\nname = 3\n")
    with caplog.at_level(logging.ERROR, logger="mailbot.rules"):
        assert len(logged.current()) == 2
    assert "30.toml:2: rule[1].name" in caplog.text


def test_watcher_refuses_to_start_on_broken_rules(tmp_path):
    write(tmp_path, "10.toml", BROKEN_REGEX)
    with pytest.raises(RuleError):
        RuleWatcher(tmp_path)


def test_watcher_min_interval_skips_checks(tmp_path):
    write(tmp_path, "10.toml", GOOD)
    watcher = RuleWatcher(tmp_path, min_interval=3600)
    write(tmp_path, "20.toml", rule('when.words = "pdf"', name="pdf"))
    assert len(watcher.current()) == 1  # not looked at again within the hour


def test_public_api_is_pinned():
    import mailbot.rules

    assert sorted(mailbot.rules.__all__) == [
        "AppliedAction", "Decision", "ErrorLine", "MessageFacts", "Rule", "RuleError", "RuleHit",
        "RuleSet", "RuleWatcher", "TraceLine", "default_rules_dir", "facts_from", "load_rules"]


@pytest.mark.parametrize("key", sorted([*CONDITIONS, "all", "any", "not"]))
def test_any_toml_value_for_any_condition_loads_or_is_a_rule_error(tmp_path, key):
    values = ["1", "1.5", "true", "[]", "[1]", "{}", "{ a = 1 }", '"x"', '["x", ""]',
              "2026-01-01", '{ name = 1 }', '{ size = 5 }', '[{ words = "x" }]']
    for i, value in enumerate(values):
        folder = tmp_path / str(i)
        write(folder, "10.toml", rule(f"when.{key} = {value}"))
        try:
            load_rules(folder)
        except RuleError as exc:
            assert all(e.line > 0 and e.key.startswith("r.when") for e in exc.errors), exc


DEEP = "x = " + "[" * 1200 + "]" * 1200 + "\n"


def test_nesting_too_deep_for_tomllib_is_an_error_of_that_file(tmp_path):
    write(tmp_path, "10.toml", GOOD)
    write(tmp_path, "20-profond.toml", "# commentaire\n" + DEEP)
    [(file, line, key, message)] = errors_of(tmp_path)
    assert (file, line, key) == ("20-profond.toml", 2, "toml") and "nested too deeply" in message


def test_watcher_survives_any_exception_while_reloading(tmp_path, monkeypatch):
    write(tmp_path, "10.toml", GOOD)
    reported: list[RuleError] = []
    watcher = RuleWatcher(tmp_path, on_error=reported.append)
    before = watcher.current()
    write(tmp_path, "20-profond.toml", DEEP)  # handled by the loader itself
    assert watcher.current() is before and watcher.current() is before
    [error] = reported
    assert "20-profond.toml:1: toml: " in str(error)

    def explode(*args: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr("mailbot.rules.watcher.load_rules", explode)
    write(tmp_path, "20-profond.toml", GOOD.replace("urgence", "autre"), bump=1)
    assert watcher.current() is before and watcher.current() is before
    assert len(reported) == 2  # once per change, not once per message
    [line] = reported[1].errors
    assert (line.file, line.line, line.key) == (str(tmp_path), 0, "file")
    assert "ValueError: boom" in line.message and watcher.last_error is reported[1]


def test_toml_error_at_end_of_file_names_the_last_line(tmp_path):
    write(tmp_path, "10.toml", GOOD + '\n[[rule]]\nname = "r2"\ntags = [\n  "a",\n  "b"\n')
    [(file, line, key, message)] = errors_of(tmp_path)
    last = len((tmp_path / "10.toml").read_text().splitlines())
    assert (file, line, key) == ("10.toml", last, "toml") and line > 0
    assert "end of document" not in message and message


def test_list_value_messages_are_grammatical(tmp_path):
    write(tmp_path, "10.toml", rule("when.sender = 1"))
    [(_, _, key, message)] = errors_of(tmp_path)
    assert (key, message) == ("r.when.sender",
                              "expected an address or a list of addresses, got 1")
    write(tmp_path, "10.toml", rule("when.words = 1"))
    assert errors_of(tmp_path)[0][3].startswith(
        "expected a word or phrase or a list of words or phrases")
    write(tmp_path, "10.toml", rule("when.error_code = 1"))
    assert errors_of(tmp_path)[0][3].startswith("expected an error code or a list of error codes")


@pytest.mark.parametrize(("files", "problem"), [
    ({"fr.txt": "Bonjour {{ prenom }}"}, "'prenom' is undefined"),
    ({"fr.subject": "[#{{ ticket }}]"}, "'ticket' is undefined"),
    ({"en.subject": "{{ ticket_ref }}", "en.txt": "Hello {{ first_name }}"},
     "'first_name' is undefined"),
    ({"fr.txt": "{% if %}"}, "TemplateSyntaxError"),
])
def test_auto_reply_templates_are_rendered_at_load(tmp_path, files, problem):
    write(tmp_path / "rules", "10.toml", rule('when.words = "x"', 'then.auto_reply = "aide"'))
    good = ("[#{{ ticket_ref }}] {{ original_subject }} {{ priority }}",
            "{{ requester_name }} {{ received_on }} {{ support_name }} {{ is_report }}"
            "{% for s in suggestions %}{{ s.title }} {{ s.excerpt }} {{ s.url }}{% endfor %}")
    for part, text in zip(("fr.subject", "fr.txt"), good, strict=True):
        write(tmp_path / "templates", f"aide.{part}.j2", text)
    assert len(load_rules(tmp_path / "rules", tmp_path / "templates")) == 1  # every variable
    for part, text in files.items():
        write(tmp_path / "templates", f"aide.{part}.j2", text)
    [(file, line, key, message)] = errors_of(tmp_path / "rules", tmp_path / "templates")
    assert (file, line, key) == ("10.toml", 5, "r.then.auto_reply")
    assert "template 'aide'" in message and problem in message
