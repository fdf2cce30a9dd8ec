"""``mailbot rules``: check rule files, try them on a mail (Typer, thin).

Exit codes: 0 success, 1 invalid rule files, 2 invalid configuration.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from mailbot.config import Config
from mailbot.rules import RuleError, RuleSet, default_rules_dir, load_rules

rules_app = typer.Typer(help="Rule files (rules/*.toml): check them, try them on a mail.",
                        no_args_is_help=True)

TemplatesOption = Annotated[Path | None, typer.Option(
    "--templates", help="Templates folder auto-replies must exist in (default: templates/).",
    file_okay=False)]


def _templates(path: Path | None) -> Path | None:
    from mailbot.render import default_templates_dir

    try:
        return path or default_templates_dir()
    except FileNotFoundError:
        return None  # no templates anywhere: auto-reply names are not checked


def _load(directory: Path, templates: Path | None) -> RuleSet:
    """The rule set, or exit 1 after printing every error."""
    try:
        return load_rules(directory, _templates(templates))
    except RuleError as exc:
        typer.echo(str(exc))
        raise typer.Exit(1) from exc


@rules_app.command("check")
def check(directory: Annotated[Path | None, typer.Argument(
              help="Rules folder (default: rules/ of the checkout).")] = None,
          templates: TemplatesOption = None) -> None:
    """Validate every rule file; print file:line: key: message for each error."""
    rules = _load(directory or default_rules_dir(), templates)
    typer.echo(f"{len(rules)} rules in {len(rules.files)} files OK")


@rules_app.command("test")
def try_rules(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                   help=".eml file")],
              rules_dir: Annotated[Path | None, typer.Option(
                  "--rules", help="Rules folder (default: rules.dir of the config, "
                  "else rules/).")] = None,
              as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
              at: Annotated[dt.datetime | None, typer.Option(
                  "--at", help="Reception time, e.g. 2026-11-28T10:00:00+01:00 (no zone: "
                  "identity.timezone; default: the mail's Date header).")] = None,
              config: Annotated[Path | None, typer.Option(
                  "--config", "-c", exists=True, dir_okay=False, help="TOML config file "
                  "(default: $MAILBOT_CONFIG, else built-in defaults).")] = None,
              templates: TemplatesOption = None) -> None:
    """Dry run: which rules fire on FILE and why the others do not. Nothing is sent or stored."""
    from mailbot.intake import own_identity
    from mailbot.privacy import load_keys
    from mailbot.reports import ReportSettings
    from mailbot.rules.dryrun import dry_run, summary  # parse, reports: heavy imports

    cfg = _config(config)
    rules = _load(rules_dir or cfg.rules.dir or default_rules_dir(),
                  templates or cfg.templates_dir)
    keys = load_keys(cfg.privacy.keys_file, create=False)  # same pseudonyms, no file created
    if at is not None and at.tzinfo is None:  # a local time, in the support's zone
        at = at.replace(tzinfo=ZoneInfo(cfg.identity.timezone))
    run = dry_run(file.read_bytes(), rules, own_identity(cfg.identity),
                  ReportSettings(**cfg.reports.model_dump()), keys,
                  cfg.identity.default_language, at, cfg.limits)
    typer.echo(json.dumps(run.to_json(), ensure_ascii=False, indent=2) if as_json
               else summary(run))


def _config(path: Path | None) -> Config:
    """The configuration (as ``mailbot inspect`` reads it), or exit 2 when invalid."""
    from pydantic import ValidationError

    from mailbot.config import load_config

    if path is None and os.environ.get("MAILBOT_CONFIG"):
        path = Path(os.environ["MAILBOT_CONFIG"])
    try:
        return load_config(path)
    except (ValidationError, OSError, ValueError) as exc:
        typer.echo(f"configuration error in {path}: {exc}", err=True)
        raise typer.Exit(2) from exc
