"""Rule files -> :class:`RuleSet`: TOML read with :mod:`tomllib`, checked by pydantic.

Every ``*.toml`` directly in the folder is read, in file-name order (hidden
files skipped). Unknown keys, bad values, bad regular expressions, unknown
templates and duplicate rule names are all errors; :func:`load_rules`
collects every one of them, with file, line and key, before raising
:class:`RuleError`. A folder with an error loads nothing.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

import mailbot
from mailbot.rules.base import DEFAULT_TIMEZONE, CompileContext
from mailbot.rules.conditions import WhenCompiler
from mailbot.rules.decision import PRIORITIES, STATUSES, TEAMS
from mailbot.rules.engine import Rule, RuleSet
from mailbot.rules.errors import ErrorLine, RuleError
from mailbot.rules.locate import Locator
from mailbot.rules.text import fold

Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Tag = Annotated[str, StringConstraints(pattern=r"^\w[\w.-]{0,39}$")]
TemplateName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_][a-z0-9_-]{0,63}$")]
ArticleId = Annotated[str, StringConstraints(pattern=r"^[\w][\w.-]{0,99}$")]


def _folded_team(value: Any) -> Any:
    return fold(value).strip() if isinstance(value, str) else value


class ThenSpec(BaseModel):
    """The ``then`` table: at least one action."""

    model_config = ConfigDict(extra="forbid")

    priority: Literal[PRIORITIES] | None = None  # type: ignore[valid-type]
    team: Annotated[Literal[TEAMS], BeforeValidator(_folded_team)] | None = None  # type: ignore[valid-type]
    tags: Annotated[list[Tag], Field(min_length=1)] | None = None
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    auto_reply: TemplateName | None = None
    suggest_faq: bool | Annotated[list[ArticleId], Field(min_length=1)] | None = None
    stop: Literal[True] | None = None
    ignore: Text | None = None

    @model_validator(mode="after")
    def _some_action(self) -> ThenSpec:
        if not self.model_fields_set:
            raise ValueError("no action: set at least one of " + ", ".join(ThenSpec.model_fields))
        return self


class RuleSpec(BaseModel):
    """One ``[[rule]]`` table (its ``when`` is compiled separately)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Text
    enabled: bool = True
    when: dict[str, Any]
    then: ThenSpec


class FileSpec(BaseModel):
    """A rule file's own keys: an optional ``timezone`` and the ``rule`` list."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = DEFAULT_TIMEZONE
    rule: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Paris)") from exc
        return value


def default_rules_dir() -> Path:
    """``rules/`` of the checkout, or the copy packaged inside the wheel."""
    package = Path(mailbot.__file__).resolve().parent
    for candidate in (package.parent / "rules", package / "_rules"):
        if candidate.is_dir():
            return candidate
    return package.parent / "rules"


def rule_files(directory: Path) -> list[Path]:
    """The ``*.toml`` files of *directory*, in evaluation (name) order."""
    return sorted(p for p in directory.glob("*.toml")
                  if not p.name.startswith((".", "#")) and p.is_file())


def load_rules(directory: Path, templates_dir: Path | None = None) -> RuleSet:
    """Load and check every rule file of *directory*; raise :class:`RuleError` on any error.

    With *templates_dir*, each ``auto_reply`` template must exist there (at
    least ``NAME.fr.subject.j2`` and ``NAME.fr.txt.j2``: French is the fallback)
    and render, in each language present, with the auto-reply variables only
    (:func:`template_problem`).
    """
    if not directory.is_dir():
        raise RuleError([ErrorLine(str(directory), 0, "directory", "no such folder")])
    errors: list[ErrorLine] = []
    rules: list[Rule] = []
    try:
        files = rule_files(directory)
    except OSError as exc:
        raise RuleError([ErrorLine(str(directory), 0, "directory", f"cannot list: {exc}")]
                        ) from exc
    for path in files:
        rules.extend(_load_file(path, templates_dir, errors))
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.name in seen:
            first = seen[rule.name]
            errors.append(ErrorLine(_shown(directory / rule.file), rule.line, f"{rule.name}.name",
                                    f"duplicate rule name (first in {first.file}:{first.line})"))
        seen.setdefault(rule.name, rule)
    if errors:
        order = {_shown(p): i for i, p in enumerate(files)}
        raise RuleError(sorted(errors, key=lambda e: (order.get(e.file, -1), e.line)))
    return RuleSet(tuple(rules), tuple(p.name for p in files))


def _shown(path: Path) -> str:
    """*path* relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _load_file(path: Path, templates_dir: Path | None, errors: list[ErrorLine]) -> list[Rule]:
    shown = _shown(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(ErrorLine(shown, 0, "file", f"cannot read: {exc}"))
        return []
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\((?:at line \d+, column \d+|at end of document)\)", "",
                         str(exc))
        line = int(match.group(1)) if match else max(len(text.splitlines()), 1)
        errors.append(ErrorLine(shown, line, "toml", message))
        return []
    except RecursionError:
        errors.append(ErrorLine(shown, _deepest_line(text), "toml", "arrays or inline tables "
                                "nested too deeply"))
        return []
    where = Locator(text)
    timezone = DEFAULT_TIMEZONE
    try:
        timezone = FileSpec.model_validate(data).timezone
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            index = loc[1] if loc[:1] == ("rule",) and len(loc) > 1 else None
            rule = index if isinstance(index, int) else None
            errors.append(ErrorLine(shown, where.line(rule, loc[2:] if rule is not None else loc),
                                    ".".join(map(str, loc)), _message(err, FileSpec)))
    raw_rules = data.get("rule")
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        return []  # reported above (or no rule at all)
    ctx = CompileContext(ZoneInfo(timezone))  # the default when the file's zone is bad
    rules = []
    for index, raw in enumerate(raw_rules):
        rule = _compile_rule(index, raw, ctx, path.name, where, templates_dir,
                             lambda line, key, msg: errors.append(ErrorLine(shown, line, key, msg)))
        if rule is not None:
            rules.append(rule)
    return rules


def _deepest_line(text: str) -> int:
    """1-based line where ``[``/``{`` nesting is deepest (a guess, strings not parsed)."""
    depth, deepest, line = 0, 0, 1
    for number, content in enumerate(text.splitlines(), 1):
        for char in content:
            depth += (char in "[{") - (char in "]}")
            if depth > deepest:
                deepest, line = depth, number
    return line


def _message(err: Any, model: type[BaseModel]) -> str:
    """A pydantic error in words a rule writer understands."""
    loc = err["loc"]
    if err["type"] == "extra_forbidden":
        fields = list(model.model_fields) if len(loc) == 1 else []
        if len(loc) == 2 and loc[0] == "then":
            fields = list(ThenSpec.model_fields)
        close = difflib.get_close_matches(str(loc[-1]), fields, n=1)
        return f"unknown key {loc[-1]!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    if err["type"] == "missing":
        return "required key missing"
    if err["type"] == "string_pattern_mismatch" and loc[-1] == "name":
        return ("a rule name uses lower-case letters without accents, digits, '-' and '_' "
                "(e.g. \"synchro-bloquee\")")
    return str(err["msg"]).removeprefix("Value error, ")


def _label(index: int, raw: dict[str, Any]) -> str:
    name = raw.get("name")
    return name if isinstance(name, str) and re.fullmatch(r"[\w-]+", name) else f"rule[{index + 1}]"


def _compile_rule(index: int, raw: dict[str, Any], ctx: CompileContext, file: str,
                  where: Locator, templates_dir: Path | None,
                  report: Callable[[int, str, str], None]) -> Rule | None:
    """One rule, or None after reporting each of its errors through *report*."""
    label = _label(index, raw)
    failed = False
    try:
        spec: RuleSpec | None = RuleSpec.model_validate(raw)
    except ValidationError as exc:
        spec, failed = None, True
        for err in exc.errors():
            loc = tuple(err["loc"])
            if loc[:1] == ("when",) and len(loc) > 1:
                continue  # the compiler below explains `when` in its own words
            report(where.line(index, loc), ".".join([label, *map(str, loc)]),
                   _message(err, RuleSpec))
    compiler = WhenCompiler(ctx)
    condition = compiler.table(raw["when"], ("when",)) if isinstance(raw.get("when"), dict) \
        else None
    for path, message in compiler.errors:
        report(where.line(index, path), label + _dotted(path), message)
        failed = True
    template = raw.get("then", {}).get("auto_reply") if isinstance(raw.get("then"), dict) \
        else None
    problem = template_problem(templates_dir, template) if templates_dir is not None and \
        isinstance(template, str) else None
    if problem is not None:
        report(where.line(index, ("then", "auto_reply")), f"{label}.then.auto_reply", problem)
        failed = True
    if failed or spec is None or condition is None:
        return None
    actions = tuple((key, getattr(spec.then, key)) for key in raw["then"])
    return Rule(spec.name, spec.description, file, where.line(index), condition, actions,
                spec.enabled)


# Exactly the variables an auto-reply is rendered with (mailbot.intake); a template
# using any other name fails at load, not when the first mail arrives.
TEMPLATE_CONTEXT: dict[str, Any] = {
    "ticket_ref": "ECN-4F7K2Q", "requester_name": "Élodie Martin",
    "original_subject": "Connexion impossible", "received_on": "23 novembre 2026 à 08:12",
    "support_name": "Support e-carnet", "is_report": False, "priority": "normale",
    "resolution_estimate": "environ 2 jours", "estimate_basis": "history",
    "suggestions": [{"title": "Article", "excerpt": "Extrait de l'article.",
                     "url": "https://aide.example/article"}],
}


def template_problem(templates_dir: Path, name: str) -> str | None:
    """Why auto-reply template *name* cannot be used, or None.

    The French (fallback) subject and text must exist, and every language
    present (fr, en) must render in the sandbox with strict undefined
    variables and the context of :data:`TEMPLATE_CONTEXT`.
    """
    if template_missing(templates_dir, name):
        return (f"template {name!r} not found in {templates_dir} (needs at least "
                f"{name}.fr.subject.j2 and {name}.fr.txt.j2)")
    from mailbot.render import Renderer  # jinja2: only when templates are checked

    renderer = Renderer(templates_dir)
    for lang in ("fr", "en"):
        if lang != "fr" and not any((templates_dir / f"{name}.{lang}.{part}.j2").exists()
                                    for part in ("subject", "txt", "html")):
            continue
        try:
            renderer.render(name, lang, **TEMPLATE_CONTEXT)
        except Exception as exc:  # any template error: undefined name, syntax, sandbox
            return f"template {name!r} ({lang}) does not render: {type(exc).__name__}: {exc}"
    return None


def template_missing(templates_dir: Path, name: str) -> bool:
    """Whether the French (fallback) subject or text template of *name* is absent."""
    return not all((templates_dir / f"{name}.fr.{part}.j2").is_file()
                   for part in ("subject", "txt")) or "/" in name or name.startswith(".")


def _dotted(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
