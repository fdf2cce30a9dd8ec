"""FAQ article files: the front-matter parser, its file:line errors, folder checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot.faq import FaqError, KnowledgeBase, check_directory
from mailbot.faq.frontmatter import parse_front_matter, read_article
from mailbot.faq.versions import VersionSpec, parse_version

GOOD = """---
# a comment
title: "Synchronisation : bloquée"
keywords: [synchro, 'mise en attente', "wifi, réseau", niveau d'acquisition]
lang: fr
app_versions: ">=2.2, <2.2.5"
team: pédagogique
---
Premier paragraphe.

## Étapes

1. Faire ceci.
"""


def write(folder: Path, name: str, text: str) -> Path:
    """Write *text* to ``folder/name`` and return the path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str, name: str = "article.md") -> FaqError:
    """The FaqError that reading *text* raises."""
    path = write(tmp_path, name, text)
    with pytest.raises(FaqError) as caught:
        read_article(path)
    return caught.value


def test_a_complete_article_is_read(tmp_path):
    article, status = read_article(write(tmp_path, "sync-bloquee.md", GOOD))
    assert article.id == "sync-bloquee"
    assert article.title == "Synchronisation : bloquée"
    assert article.keywords == ("synchro", "mise en attente", "wifi, réseau",
                                "niveau d'acquisition")
    assert (article.lang, article.app_versions, article.team) == ("fr", ">=2.2, <2.2.5",
                                                                  "pedagogique")
    assert article.body.startswith("Premier paragraphe.")
    assert article.path == tmp_path / "sync-bloquee.md"
    assert status == "published"


def test_block_lists_and_optional_keys(tmp_path):
    text = "---\ntitle: Export\nkeywords:\n  - export\n  - pdf\nlang: en\n---\nBody.\n"
    article, _ = read_article(write(tmp_path, "export.md", text))
    assert article.keywords == ("export", "pdf")
    assert (article.app_versions, article.team, article.lang) == (None, None, "en")


@pytest.mark.parametrize(("text", "line", "message"), [
    ("title: x\n", 1, "must start with '---'"),
    ("---\ntitle: x\nkeywords: [a]\nlang: fr\n", 4, "not closed"),
    ("---\ntitle: x\nkeyword: [a]\nlang: fr\n---\nBody\n", 3, "unknown key 'keyword'"),
    ("---\ntitle: x\ntitle: y\nkeywords: [a]\nlang: fr\n---\nBody\n", 3,
     "duplicate key 'title' (first on line 2)"),
    ("---\ntitle: x\nkeywords: [a]\nlang: de\n---\nBody\n", 4, "lang must be one of fr, en"),
    ("---\ntitle: x\nkeywords: [a]\nlang: fr\nteam: direction\n---\nBody\n", 5,
     "team must be technique or pedagogique"),
    ("---\ntitle: x\nkeywords: [a]\nlang: fr\napp_versions: ~2.2\n---\nBody\n", 5,
     "bad version range"),
    ("---\ntitle: x\nkeywords: []\nlang: fr\n---\nBody\n", 3, "non-empty list"),
    ("---\ntitle: x\nkeywords: [a, , b]\nlang: fr\n---\nBody\n", 3, "empty item"),
    ("---\ntitle: x\nkeywords: [a, b\nlang: fr\n---\nBody\n", 3, "not closed with ']'"),
    ("---\ntitle: x\nkeywords: [\"a, b]\nlang: fr\n---\nBody\n", 3, "unclosed quote"),
    ("---\ntitle: \"x\nkeywords: [a]\nlang: fr\n---\nBody\n", 2, "bad double-quoted"),
    ("---\ntitle: [x]\nkeywords: [a]\nlang: fr\n---\nBody\n", 2, "single value"),
    ("---\ntitle:\nkeywords: [a]\nlang: fr\n---\nBody\n", 2, "'title' is empty"),
    ("---\nkeywords: [a]\nlang: fr\n---\nBody\n", 1, "missing required key 'title'"),
    ("---\ntitle: x\nlang: fr\n---\nBody\n", 1, "missing required key 'keywords'"),
    ("---\ntitle: x\nkeywords: [a]\nlang: fr\n---\n\n", 6, "no body"),
    ("---\ntitle: x\n\tkeywords: [a]\n---\nBody\n", 3, "tab in indentation"),
    ("---\ntitle: x\njust some words\n---\nBody\n", 3, "expected 'key: value'"),
    ("---\ntitle: x\nkeywords: [a]\nlang: fr\nstatus: old\n---\nBody\n", 5,
     "status must be draft or published"),
])
def test_errors_name_the_file_and_line(tmp_path, text, line, message):
    error = error_of(tmp_path, text)
    assert error.line == line
    assert message in error.message
    assert str(error).startswith(f"{tmp_path / 'article.md'}:{line}: ")


def test_bad_file_names_and_encodings(tmp_path):
    good = "---\ntitle: x\nkeywords: [a]\nlang: fr\n---\nBody\n"
    assert "bad file name" in error_of(tmp_path, good, "Mot de passe.md").message
    path = tmp_path / "latin1.md"
    path.write_bytes(good.replace("Body", "Élève").encode("latin-1"))
    with pytest.raises(FaqError, match="not UTF-8"):
        read_article(path)


def test_a_bom_is_accepted(tmp_path):
    fields, body = parse_front_matter("\ufeff---\ntitle: x\n---\nB", tmp_path / "x.md")
    assert fields["title"] == ("x", 2)
    assert body == "B"


def test_check_directory_reports_every_error_and_skips_drafts(tmp_path):
    ok = "---\ntitle: Un\nkeywords: [a]\nlang: fr\n---\nBody\n"
    write(tmp_path, "un.md", ok)
    write(tmp_path, "deux.md", ok)  # same title and language as un.md
    write(tmp_path, "trois.md", "---\ntitle: Trois\nlang: fr\n---\nBody\n")
    write(tmp_path, "brouillon.md", ok.replace("Un", "Brouillon").replace(
        "lang: fr", "lang: fr\nstatus: draft"))
    (tmp_path / "drafts").mkdir()
    write(tmp_path / "drafts", "cassé.md", "nothing")
    articles, errors = check_directory(tmp_path)
    assert [a.id for a in articles] == ["deux"]  # un.md comes after deux.md, so it is flagged
    assert sorted(Path(e.path).name for e in errors) == ["trois.md", "un.md"]
    assert any("same title as deux.md" in str(e) for e in errors)
    with pytest.raises(FaqError, match="missing required key 'keywords'"):
        KnowledgeBase.load(tmp_path)


def test_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(FaqError, match="no such directory"):
        KnowledgeBase.load(tmp_path / "absent")


def test_version_parsing_and_ranges():
    assert parse_version("2.2.4 (build 2240)") == (2, 2, 4)
    assert parse_version("version inconnue") is None
    spec = VersionSpec.parse(">=2.2, <2.2.5")
    assert spec.contains((2, 2)) and spec.contains((2, 2, 4))
    assert not spec.contains((2, 2, 5)) and not spec.contains((2, 1, 9))
    assert VersionSpec.parse("2.2.4").contains((2, 2, 4, 0))
    assert VersionSpec.parse("!=2.2.4").contains((2, 3))
    with pytest.raises(ValueError, match="bad version range"):
        VersionSpec.parse(">= 2.x")
