"""`mailbot faq suggest` / `faq check`, and draft articles from resolved tickets."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mailbot.cli_faq import faq_app
from mailbot.faq import KnowledgeBase, check_directory, default_faq_dir, draft_article
from mailbot.faq.drafts import clean_subject, guess_keywords, slug
from mailbot.faq.frontmatter import read_article

runner = CliRunner()


def test_suggest_json_lists_id_title_score_best_first():
    result = runner.invoke(faq_app, ["suggest", "--json", "mdp oublié, je ne peux plus me "
                                                          "connecter"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0]["id"] == "mot-de-passe-oublie"
    assert rows[0]["title"] == "Mot de passe oublié ou connexion impossible"
    assert all(set(row) == {"id", "title", "score"} for row in rows)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_suggest_json_is_empty_when_unsure():
    result = runner.invoke(faq_app, ["suggest", "--json", "la cantine est-elle ouverte ?"])
    assert result.exit_code == 0
    assert json.loads(result.output) == []


def test_suggest_takes_the_kb_folder_the_app_version_and_stdin(tmp_path):
    question = "synchro bloquée, erreur SYNC-504"

    def suggested(*options: str, stdin: str | None = None) -> list[str]:
        result = runner.invoke(faq_app, ["suggest", "--json", *options], input=stdin)
        assert result.exit_code == 0, result.output
        return [row["id"] for row in json.loads(result.output)]

    assert suggested(question, "--app-version", "2.2.4")[0] == "synchronisation-erreur-sync-504"
    fixed = suggested(question, "--app-version", "2.2.5")
    assert "synchronisation-erreur-sync-504" not in fixed  # the bug is fixed in 2.2.5
    assert fixed[0] == "mise-a-jour-application"
    assert suggested("-", "--kb", str(default_faq_dir()), "--limit", "1",
                     stdin=question) == ["synchronisation-erreur-sync-504"]
    (tmp_path / "corbeille.md").write_text(
        "---\ntitle: La corbeille\nkeywords: [corbeille]\nlang: fr\n---\nRestaurer.\n",
        encoding="utf-8")
    assert suggested("--kb", str(tmp_path), "la corbeille ?") == ["corbeille"]


def test_suggest_readable_output():
    result = runner.invoke(faq_app, ["suggest", "comment exporter le carnet en PDF ?"])
    assert result.exit_code == 0
    assert "export-pdf  Exporter le carnet d'un élève en PDF" in result.output
    assert "Le carnet de chaque élève peut être exporté en PDF" in result.output
    quiet = runner.invoke(faq_app, ["suggest", "bonjour"])
    assert quiet.output.strip() == "no confident suggestion"


def test_suggest_with_a_broken_kb_exits_2(tmp_path):
    (tmp_path / "bad.md").write_text("no front matter", encoding="utf-8")
    result = runner.invoke(faq_app, ["suggest", "--kb", str(tmp_path), "x"])
    assert result.exit_code == 2
    assert "bad.md:1:" in result.output


def test_check_passes_on_the_shipped_articles():
    result = runner.invoke(faq_app, ["check"])
    assert result.exit_code == 0, result.output
    assert "article(s) OK" in result.output


def test_check_reports_file_and_line_and_exits_1(tmp_path):
    (tmp_path / "ok.md").write_text("---\ntitle: A\nkeywords: [a]\nlang: fr\n---\nBody\n",
                                    encoding="utf-8")
    (tmp_path / "bad.md").write_text("---\ntitle: B\nkeywords: [b]\nlang: es\n---\nBody\n",
                                     encoding="utf-8")
    result = runner.invoke(faq_app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'bad.md'}:4: lang must be one of fr, en" in result.output
    assert "1 error(s)" in result.output


# -- drafts ----------------------------------------------------------------------------------

QUESTION = """Bonjour,
Depuis la mise à jour, l'export PDF du carnet de mes élèves sort avec des pages blanches.
L'export PDF de la classe aussi. Merci, Claire"""
ANSWER = "Synchronisez d'abord tous les médias, puis relancez l'export PDF."


def test_draft_article_writes_a_reviewable_draft(tmp_path):
    path = draft_article("Re: [e-carnet] Demande d'assistance : export PDF: pages blanches",
                         QUESTION, ANSWER, tmp_path)
    assert path == tmp_path / "drafts" / "export-pdf-pages-blanches.md"
    article, status = read_article(path)
    assert status == "draft"
    assert article.title == "Export PDF: pages blanches"
    assert article.lang == "fr"
    assert article.keywords[:3] == ("mise à jour", "export", "pdf")
    assert "pages" in article.keywords and "bonjour" not in article.keywords
    assert "## Question" in article.body and "## Réponse" in article.body
    assert ANSWER in article.body and "pages blanches" in article.body
    # drafts are never suggested: not in drafts/, and skipped by status elsewhere
    assert KnowledgeBase.load(tmp_path).articles == ()
    assert check_directory(path.parent) == ([], [])
    checked = runner.invoke(faq_app, ["check", str(path.parent)])
    assert checked.exit_code == 0 and "0 article(s) OK" in checked.output
    assert ", 1 draft(s)" in checked.output


def test_draft_article_never_overwrites_and_handles_odd_input(tmp_path):
    first = draft_article("Mot de passe", "mdp oublié", "Lien envoyé.", tmp_path)
    second = draft_article("Mot de passe", "mdp oublié", "Lien envoyé.", tmp_path)
    assert (first.name, second.name) == ("mot-de-passe.md", "mot-de-passe-2.md")
    odd = draft_article('Re: "quotes" \\ and: colons', "?", "ok", tmp_path, lang="en")
    article, _ = read_article(odd)
    assert article.title == '"quotes" \\ and: colons'
    assert article.lang == "en" and "## Answer" in article.body
    empty = draft_article("Re: ", "", "ok", tmp_path)
    assert read_article(empty)[0].title == "Article sans titre"


def test_draft_helpers():
    assert clean_subject("TR: RE: [Ticket #12] synchro") == "Synchro"
    assert slug("Synchronisation bloquée à 45 % !") == "synchronisation-bloquee-a-45"
    assert slug("???") == "article"
    assert guess_keywords("Les vidéos, la vidéo, une vidéo ; le stockage") == ["vidéos",
                                                                               "stockage"]
    assert guess_keywords("Mon mot de passe ? Celui de l'ordinateur") == ["mot de passe",
                                                                          "ordinateur"]
