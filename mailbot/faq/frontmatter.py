"""Reading articles: a strict little front-matter parser with ``file:line`` errors.

The front matter is the YAML subset the articles need and nothing more, so
no YAML library (and none of its surprises: ``no`` read as ``false``, ``2.10``
read as a float, tabs)::

    ---
    title: Synchronisation bloquée
    keywords: [synchronisation, synchro, "mise en attente"]
    lang: fr
    app_versions: ">=2.2, <2.2.5"
    team: technique
    ---
    Article body in Markdown…

Values are plain text, ``"double"`` (JSON escapes) or ``'single'`` quoted
strings; lists are ``[a, b]`` on one line or ``- item`` lines under the key.
Unknown keys are errors, so a typo (``keyword:``) does not silently lose
the keywords.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from mailbot.faq.model import Article, FaqError
from mailbot.faq.versions import VersionSpec

KEYS = ("title", "keywords", "lang", "app_versions", "team", "status")
LANGUAGES = ("fr", "en")
TEAMS = {"technique": "technique", "pedagogique": "pedagogique", "pédagogique": "pedagogique"}
STATUSES = ("draft", "published")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_KEY_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:(.*)$")
_ITEM_LINE = re.compile(r"^\s+-\s*(.*)$|^-\s+(.*)$")

Value = str | list[str]


def _scalar(raw: str, path: Path, line: int) -> str:
    raw = raw.strip()
    if raw.startswith('"'):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise FaqError(path, line, f"bad double-quoted string: {exc.msg}") from None
        if not isinstance(value, str):
            raise FaqError(path, line, "bad double-quoted string")
        return value
    if raw.startswith("'"):
        if len(raw) < 2 or not raw.endswith("'") or "'" in raw[1:-1].replace("''", ""):
            raise FaqError(path, line, "bad single-quoted string")
        return raw[1:-1].replace("''", "'")
    return raw


def _flow_list(raw: str, path: Path, line: int) -> list[str]:
    inner = raw.strip()[1:-1]
    items, current, quote = [], "", ""
    for char in inner:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "\"'" and not current.strip():  # quotes open only an item
            quote = char
            current += char
        elif char == ",":
            items.append(current)
            current = ""
        else:
            current += char
    if quote:
        raise FaqError(path, line, "unclosed quote in list")
    if current.strip() or items:
        items.append(current)
    values = [_scalar(item, path, line) for item in items]
    if any(not v for v in values):
        raise FaqError(path, line, "empty item in list")
    return values


def parse_front_matter(text: str, path: Path) -> tuple[dict[str, tuple[Value, int]], str]:
    """``({key: (value, line)}, body)`` of an article's *text*; raise :class:`FaqError`."""
    lines = text.removeprefix("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise FaqError(path, 1, "missing front matter: the file must start with '---'")
    fields: dict[str, tuple[Value, int]] = {}
    open_list: str | None = None
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            return fields, "\n".join(lines[number:]).strip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "\t" in line[: len(line) - len(line.lstrip())]:
            raise FaqError(path, number, "tab in indentation; use spaces")
        item = _ITEM_LINE.match(line)
        if item and open_list:
            value = _scalar(item.group(1) or item.group(2) or "", path, number)
            if not value:
                raise FaqError(path, number, "empty item in list")
            list_value = fields[open_list][0]
            assert isinstance(list_value, list)
            list_value.append(value)
            continue
        match = _KEY_LINE.match(line)
        if not match or line[0].isspace():
            raise FaqError(path, number, f"expected 'key: value', got {line.strip()!r}")
        key, raw = match.group(1), match.group(2).strip()
        if key not in KEYS:
            raise FaqError(path, number, f"unknown key {key!r} (known: {', '.join(KEYS)})")
        if key in fields:
            raise FaqError(path, number, f"duplicate key {key!r} (first on line "
                                         f"{fields[key][1]})")
        open_list = None
        if raw.startswith("[") and raw.endswith("]"):
            fields[key] = (_flow_list(raw, path, number), number)
        elif raw.startswith("["):
            raise FaqError(path, number, "list not closed with ']' on the same line")
        elif not raw:
            fields[key] = ([], number)
            open_list = key
        else:
            fields[key] = (_scalar(raw, path, number), number)
    raise FaqError(path, len(lines), "front matter not closed: no second '---' line")


def _text_field(fields: dict[str, tuple[Value, int]], key: str, path: Path) -> str | None:
    if key not in fields:
        return None
    value, line = fields[key]
    if isinstance(value, list) and value:
        raise FaqError(path, line, f"{key!r} must be a single value, not a list")
    if isinstance(value, list) or not value.strip():
        raise FaqError(path, line, f"{key!r} is empty")
    return value.strip()


def read_article(path: Path) -> tuple[Article, str]:
    """The article in *path* and its ``status`` (``published`` unless said otherwise)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FaqError(path, 1, f"not UTF-8 text ({exc.reason})") from None
    fields, body = parse_front_matter(text, path)
    if not ID_PATTERN.match(path.stem):
        raise FaqError(path, 1, f"bad file name {path.name!r}: the id (file stem) must be "
                                "lower-case letters, digits and hyphens")
    title = _text_field(fields, "title", path)
    lang = _text_field(fields, "lang", path)
    for key, value in (("title", title), ("lang", lang), ("keywords", fields.get("keywords"))):
        if value is None:
            raise FaqError(path, 1, f"missing required key {key!r}")
    keywords, kw_line = fields["keywords"]
    if not isinstance(keywords, list) or not keywords:
        raise FaqError(path, kw_line, "'keywords' must be a non-empty list, e.g. [synchro, wifi]")
    if lang not in LANGUAGES:
        raise FaqError(path, fields["lang"][1], f"lang must be one of {', '.join(LANGUAGES)}, "
                                                f"not {lang!r}")
    versions = _text_field(fields, "app_versions", path)
    if versions is not None:
        try:
            VersionSpec.parse(versions)
        except ValueError as exc:
            raise FaqError(path, fields["app_versions"][1], str(exc)) from None
    team = _text_field(fields, "team", path)
    if team is not None:
        if team not in TEAMS:
            raise FaqError(path, fields["team"][1], f"team must be technique or pedagogique, "
                                                    f"not {team!r}")
        team = TEAMS[team]
    status = _text_field(fields, "status", path) or "published"
    if status not in STATUSES:
        raise FaqError(path, fields["status"][1], f"status must be draft or published, "
                                                  f"not {status!r}")
    if not body.strip():
        raise FaqError(path, len(text.splitlines()), "the article has no body")
    article = Article(id=path.stem, title=title or "", keywords=tuple(keywords),
                      lang=lang or "fr", app_versions=versions, team=team, body=body,
                      path=path)
    return article, status


def check_directory(directory: Path) -> tuple[list[Article], list[FaqError]]:
    """Every published article in ``directory/*.md`` and every error found on the way.

    Ids are file stems restricted to ``[a-z0-9-]``, hence unique in a folder
    even on case-insensitive file systems; two articles of one language may
    not share a title either, since users pick from titles.
    """
    if not directory.is_dir():
        return [], [FaqError(directory, 0, "no such directory")]
    articles: list[Article] = []
    errors: list[FaqError] = []
    titles: dict[tuple[str, str], Path] = {}
    for path in sorted(directory.glob("*.md")):
        try:
            article, status = read_article(path)
        except FaqError as exc:
            errors.append(exc)
            continue
        title_key = (article.title.casefold(), article.lang)
        if title_key in titles:
            errors.append(FaqError(path, 1, f"same title as {titles[title_key].name}"))
            continue
        titles[title_key] = path
        if status == "published":
            articles.append(article)
    return articles, errors
