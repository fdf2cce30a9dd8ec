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
