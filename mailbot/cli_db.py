"""``mailbot db``: the database schema and its migrations (Alembic, mailbot/migrations).

Registered by :mod:`mailbot.cli` as ``app.add_typer(db_app, name="db")``. Every start
upgrades the database by itself (mailbot.store.db); these commands show where it stands,
upgrade on demand, and write the next migration. Exit codes: 0 success, 1 the schema
cannot be brought up to date, 2 invalid configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

db_app = typer.Typer(help="The database schema: where it stands, upgrade it, write the "
                          "next migration.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML config file (default: $MAILBOT_CONFIG, "
                 "else built-in defaults: ./mailbot.db).", exists=True, dir_okay=False),
]


def _url(path: Path | None) -> str:
    from mailbot.cli import _config  # the main command's loading: exit 2, logging set up

    return _config(path).database.url


@db_app.command()
def current(config: ConfigOption = None) -> None:
    """The database's schema revision and the newest this mailbot knows. Changes nothing."""
    from mailbot.store.db import current_revision, head_revision, make_engine

    engine = make_engine(_url(config), upgrade=False)
    try:
        at, head = current_revision(engine), head_revision()
    finally:
        engine.dispose()
    if at == head:
        typer.echo(f"{at} (newest)")
    elif at is None:
        typer.echo(f"no revision recorded (empty, or made before migrations); newest is {head}: "
                   "the next start upgrades it")
    else:
        typer.echo(f"{at}; newest is {head}: the next start upgrades it")


@db_app.command()
def upgrade(config: ConfigOption = None) -> None:
    """Bring the database to the newest revision now (every start does it too). Back it up
    first (docs/operations.md, Upgrades)."""
    from mailbot.store.db import SchemaError, make_engine, upgrade_schema

    engine = make_engine(_url(config), upgrade=False)
    try:
        before, after = upgrade_schema(engine)
    except SchemaError as exc:
        typer.echo(f"upgrade failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"{after} (already)" if before == after else f"{before or 'empty'} -> {after}")


@db_app.command()
def revision(message: Annotated[str, typer.Option(
                 "--message", "-m", help="What the migration does, e.g. 'ticket due date'.")],
             empty: Annotated[bool, typer.Option(
                 "--empty", help="Write an empty migration to fill in by hand.")] = False,
             ) -> None:
    """Write the next migration into mailbot/migrations/versions/ (run it in a checkout):
    what models.py has that the migrations do not make, found by comparing the models with
    a scratch SQLite database built by the migrations. Review it before committing."""
    from mailbot.store.db import write_revision

    path = write_revision(message, autogenerate=not empty)
    if path is None:
        typer.echo("models.py and the migrations agree: nothing to write "
                   "(--empty writes a migration to fill in by hand)")
        return
    typer.echo(f"wrote {path}\nreview it: a NOT NULL column needs a server_default or a "
               "backfill; then run uv run pytest tests/test_migrations.py")
