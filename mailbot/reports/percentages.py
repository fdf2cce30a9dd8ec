"""Percentages out of 0–100 anywhere in diagnostic.json, located without naming unknown keys.

No known field is a percentage: they sit under unknown keys (``device.battery_percent``,
``usage.per_student.<a name>.completion_percent``), which the spec says to keep
and ignore. Such a key may be anything, a child's name included, so a value
out of range is located by its nearest *known* section (``device``, ``usage``)
only, once per section.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

PERCENT_KEYS = ("percent", "pct", "pourcentage")


def bad_percentages(model: BaseModel, path: str = "") -> Iterator[str]:
    """The known dotted paths (``""`` for the root) holding, somewhere under an
    unknown key, a number named like a percentage that is outside 0–100."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        sub = f"{path}.{name}" if path else name
        if isinstance(value, BaseModel):
            yield from bad_percentages(value, sub)
        elif isinstance(value, list) and any(isinstance(item, BaseModel) for item in value):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from bad_percentages(item, f"{sub}.{index}")
        elif isinstance(value, dict | list) and _holds_bad_percentage(value):
            yield sub  # a free-form section such as ``performance``
    if model.model_extra and _holds_bad_percentage(model.model_extra):
        yield path


def _holds_bad_percentage(value: Any) -> bool:
    """True if a percentage-named number under *value* is outside 0–100 (iterative:
    a deeply nested document does not exhaust the stack)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if _is_number(inner) and str(key).lower().endswith(PERCENT_KEYS):
                    if not 0 <= inner <= 100:
                        return True
                elif isinstance(inner, dict | list):
                    stack.append(inner)
        elif isinstance(item, list):
            stack.extend(inner for inner in item if isinstance(inner, dict | list))
    return False


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
