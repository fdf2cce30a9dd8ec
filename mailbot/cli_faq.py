"""``mailbot faq``: suggest articles for a question, check the article files.

Registered by :mod:`mailbot.cli` as ``app.add_typer(faq_app, name="faq")``.
Exit codes follow the main command: 0 success, 1 the check found errors,
2 the knowledge base cannot be loaded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from mailbot.faq import FaqError, KnowledgeBase, check_directory, default_faq_dir

faq_app = typer.Typer(help="FAQ knowledge base (rules/faq/*.md).", no_args_is_help=True)

KbOption = Annotated[
    Path | None,
    typer.Option("--kb", help="Folder of articles (default: rules/faq of the checkout).",
                 file_okay=False),
]


@faq_app.command("suggest")
def suggest(
    question: Annotated[str, typer.Argument(help="The question or mail text; '-' reads stdin.")],
    kb: KbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: [{id, title, score}].")]
    = False,
    app_version: Annotated[str | None, typer.Option(
        "--app-version", help="The asker's e-carnet version, e.g. 2.2.4.")] = None,
    lang: Annotated[str | None, typer.Option(
        "--lang", help="The asker's language (fr/en); detected when omitted.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many articles.")] = 3,
) -> None:
    """Articles to suggest for QUESTION, best first; nothing when no article is a
    confident match."""
    text = sys.stdin.read() if question == "-" else question
    try:
        base = KnowledgeBase.load(kb or default_faq_dir())
    except FaqError as exc:
        typer.echo(f"cannot load the FAQ: {exc}", err=True)
        raise typer.Exit(2) from exc
    found = base.suggest(text, app_version=app_version, language=lang, limit=limit)
    if as_json:
        rows = [{"id": s.article.id, "title": s.article.title, "score": s.score}
                for s in found]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not found:
        typer.echo("no confident suggestion")
        return
    for s in found:
        typer.echo(f"{s.score:.2f}  {s.article.id}  {s.article.title}")
        typer.echo(f"      {s.excerpt}")


@faq_app.command("check")
def check(
    directory: Annotated[Path | None, typer.Argument(
        help="Folder of articles (default: rules/faq of the checkout).")] = None,
) -> None:
    """Validate every article of DIRECTORY: front matter, id, unique titles.

    Prints ``file:line: message`` for each error and exits 1 if there is any.
    """
    folder = directory or default_faq_dir()
    articles, errors = check_directory(folder)
    for error in errors:
        typer.echo(str(error), err=True)
    if errors:
        typer.echo(f"{len(errors)} error(s) in {folder}", err=True)
        raise typer.Exit(1)
    drafts = len(list(folder.glob("*.md"))) - len(articles)
    typer.echo(f"{len(articles)} article(s) OK in {folder}"
               + (f", {drafts} draft(s)" if drafts else ""))
