"""The label block of the report body (``Priorité : urgente`` …), French or English.

Labels may come in any order, with normal or non-breaking spaces before the
colon, inside a forwarded message and behind ``> `` quote marks. Free-text
values (description, actions, frequency, impact) run over the following lines
until a blank line or the next label; the other values are one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailbot.reports.model import Finding
from mailbot.reports.numbers import clean_version, fold, parse_total_and_free
from mailbot.reports.vocab import FIELD_NAMES, FREE_TEXT, LABELS, VOCABULARIES, normalise, os_name

_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_BULLET = re.compile(r"^\s*(?:[-*•]\s+)?")
_LABEL_LINE = re.compile(r"^(?P<label>[^:：\n]{2,60}?)\s*[:：](?P<value>.*)$")
_BUILD = re.compile(r"build\s*:?\s*(\d+)", re.IGNORECASE)
_OS = re.compile(r"^(?P<name>.*?)[\s,]*\bv?(?P<version>\d[\w.\-]*)")
WHERE = "corps du message"
_SIZES = {"memory": ("ram_total_mb", "ram_free_mb"),
          "storage": ("storage_total_mb", "storage_free_mb")}


@dataclass
class BodyFields:
    """Normalised values from the body, the rounding slack of sizes, and problems."""

    values: dict[str, object] = field(default_factory=dict)
    tolerances: dict[str, float] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)


def _label_field(line: str) -> tuple[str, str] | None:
    match = _LABEL_LINE.match(_BULLET.sub("", line, count=1))
    if not match:
        return None
    name = LABELS.get(fold(match["label"]))
    return (name, match["value"].strip()) if name else None


def label_values(text: str) -> dict[str, str]:
    """The raw value of each label found in *text* (first occurrence wins)."""
    lines = [_QUOTE.sub("", line).rstrip() for line in text.replace("\r", "").split("\n")]
    raw: dict[str, str] = {}
    index = 0
    while index < len(lines):
        found = _label_field(lines[index])
        index += 1
        if found is None:
            continue
        name, first = found
        parts = [first] if first else []
        if name in FREE_TEXT:
            if not parts and index < len(lines) and not lines[index].strip():
                index += 1  # "Description :" then a blank line, as some clients rewrap
            while index < len(lines) and lines[index].strip() and \
                    _label_field(lines[index]) is None:
                parts.append(lines[index].strip())
                index += 1
        raw.setdefault(name, "\n".join(parts).strip())
    return raw


def has_label_block(text: str) -> bool:
    """True when *text* holds ``Version de l'application :`` / ``App version:``."""
    return "app_version" in label_values(text)


def split_os(text: str) -> tuple[str | None, str | None]:
    """``"iPadOS 17.4"`` -> ``("iPadOS", "17.4")``; ``"Android 14"`` -> ``("Android", "14")``."""
    text = text.strip()
    match = _OS.match(text)
    if not match:
        return (os_name(text) or None), None
    name = match["name"].strip(" ,") or None
    return (os_name(name) if name else None), match["version"].strip(".-")


def read_body(text: str) -> BodyFields | None:
    """Parse the label block in *text*; ``None`` when there is none."""
    raw = label_values(text)
    if not raw:
        return None
    body = BodyFields()
    for name, value in raw.items():
        if not value:
            continue
        if name in VOCABULARIES:
            _vocabulary(body, name, value)
        elif name in FREE_TEXT:
            body.values[name] = value
        elif name == "app_version":
            _version(body, value)
        elif name == "system":
            body.values["os"], body.values["os_version"] = split_os(value)
        elif name in _SIZES:
            _sizes(body, name, value)
    return body


def _vocabulary(body: BodyFields, name: str, value: str) -> None:
    normalised = normalise(name, value)
    if normalised is None:
        body.problems.append(Finding(
            "invalid_field", f"« {FIELD_NAMES[name]} » : valeur non reconnue dans le corps "
            "du message.", WHERE))
    else:
        body.values[name] = normalised


def _version(body: BodyFields, value: str) -> None:
    version = clean_version(value)
    if version is None:
        body.problems.append(Finding(
            "invalid_field", "« Version de l'application » : numéro de version illisible "
            "dans le corps du message.", WHERE))
        return
    body.values["app_version"] = version
    build = _BUILD.search(value)
    if build:
        body.values["app_build"] = int(build.group(1))


def _sizes(body: BodyFields, name: str, value: str) -> None:
    total, free = parse_total_and_free(value)
    total_key, free_key = _SIZES[name]
    for key, size in ((total_key, total), (free_key, free)):
        if size is not None:
            body.values[key] = size.mb
            body.tolerances[key] = size.tolerance_mb
    if total is None and free is None:
        label = "Mémoire" if name == "memory" else "Stockage"
        body.problems.append(Finding(
            "invalid_field", f"« {label} » : taille illisible dans le corps du message.",
            WHERE))
