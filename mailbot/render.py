"""Rendering outgoing text from the jinja2 templates in ``templates/``.

Templates are files written by the support team; what a customer wrote only
ever reaches them as a *variable*, never as template source, and the
environment is sandboxed with strict undefined variables, so a message body
containing ``{{ ... }}`` is shown as typed and a typo in a template fails
loudly instead of sending a half-empty mail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

import mailbot

MONTHS = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}


def default_templates_dir() -> Path:
    """``templates/`` of the checkout, or the copy packaged inside the wheel."""
    package = Path(mailbot.__file__).resolve().parent
    for candidate in (package.parent / "templates", package / "_templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("no templates/ folder found; set templates_dir in the config")


def format_date(when: dt.datetime, language: str, timezone: str) -> str:
    """``25 novembre 2026 à 14:05`` / ``25 November 2026 at 14:05 (CET)`` in *timezone*.

    French readers are in France: the zone goes without saying. English
    readers may not be, so their text names it.
    """
    local = when.astimezone(ZoneInfo(timezone))
    month = MONTHS.get(language, MONTHS["fr"])[local.month - 1]
    if language == "fr":
        return f"{local.day} {month} {local.year} à {local:%H:%M}"
    return f"{local.day} {month} {local.year} at {local:%H:%M} ({local:%Z})"


@dataclass(frozen=True)
class RenderedMail:
    """Subject and bodies of one outgoing mail, ready for :mod:`mailbot.compose`."""

    subject: str
    text: str
    html: str | None = None


class Renderer:
    """Loads ``NAME.LANG.subject.j2`` / ``.txt.j2`` / optional ``.html.j2`` templates."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.templates_dir = templates_dir or default_templates_dir()
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(self.templates_dir),
            undefined=StrictUndefined,
            autoescape=select_autoescape(["html.j2"], default_for_string=False),
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, name: str, language: str, **context: object) -> RenderedMail:
        """Render template *name* in *language* (falls back to French)."""
        lang = language if self._exists(f"{name}.{language}.txt.j2") else "fr"
        subject = self.env.get_template(f"{name}.{lang}.subject.j2").render(**context)
        text = self.env.get_template(f"{name}.{lang}.txt.j2").render(**context)
        html_name = f"{name}.{lang}.html.j2"
        html = self.env.get_template(html_name).render(**context) if self._exists(
            html_name) else None
        return RenderedMail(subject=" ".join(subject.split()), text=text, html=html)

    def _exists(self, template: str) -> bool:
        return (self.templates_dir / template).is_file()
