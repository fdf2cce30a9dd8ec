"""Values that parse but cannot be true: read as unknown, with an ``impossible_value`` finding.

- sizes: RAM over 1 To, storage over 100 To (from the body or diagnostic.json);
- dates: ``generated_at`` before 2020, after 2100, or more than a day after the
  mail's ``Date``; ``sync.last_success_at`` before 2020.

Findings name the field, never the value.
"""

from __future__ import annotations

import datetime as dt

from mailbot.reports.labels import WHERE as BODY
from mailbot.reports.merge import JSON_PATHS
from mailbot.reports.model import Finding
from mailbot.reports.numbers import aware
from mailbot.reports.schema import FILE
from mailbot.reports.vocab import FIELD_NAMES

TERA_MB = 1024 * 1024
SIZE_LIMITS: dict[str, tuple[int, str]] = {  # field -> (largest plausible Mo, as said)
    "ram_total_mb": (TERA_MB, "1 To"), "ram_free_mb": (TERA_MB, "1 To"),
    "storage_total_mb": (100 * TERA_MB, "100 To"), "storage_free_mb": (100 * TERA_MB, "100 To"),
}
EARLIEST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)  # before the app existed
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
AHEAD = dt.timedelta(days=1)  # clock skew allowed between the device and the mail


def drop_impossible_sizes(values: dict[str, object], from_json: bool,
                          problems: list[Finding]) -> None:
    """Remove from *values* each size beyond :data:`SIZE_LIMITS`, with a finding."""
    for name, (limit, said) in SIZE_LIMITS.items():
        value = values.get(name)
        if isinstance(value, int) and value > limit:
            del values[name]
            where = f"{FILE}, {JSON_PATHS[name]}" if from_json else BODY
            source = FILE if from_json else "le corps du message"
            problems.append(Finding(
                "impossible_value", f"« {FIELD_NAMES[name]} » : plus de {said} dans {source}, "
                "valeur impossible ignorée.", where))


def plausible_generated_at(when: dt.datetime | None, mail_date: dt.datetime | None,
                           problems: list[Finding]) -> dt.datetime | None:
    """*when* if it may be true, else ``None`` and an ``impossible_value`` finding."""
    if when is None:
        return None
    moment = aware(when)
    if moment < EARLIEST:
        reason = "antérieure à 2020"
    elif mail_date is not None and moment - aware(mail_date) > AHEAD:
        reason = "plus d'un jour après la date du message"
    elif moment >= LATEST:
        reason = "postérieure à 2100"
    else:
        return when
    problems.append(Finding("impossible_value", f"{FILE} : generated_at ignoré (date "
                            f"{reason}).", f"{FILE}, generated_at"))
    return None


def plausible_last_sync(when: dt.datetime | None, problems: list[Finding]
                        ) -> dt.datetime | None:
    """*when* unless it is before 2020 (then ``None`` and an ``impossible_value`` finding)."""
    if when is not None and aware(when) < EARLIEST:
        problems.append(Finding("impossible_value", f"{FILE} : sync.last_success_at ignoré "
                                "(date antérieure à 2020).", f"{FILE}, sync.last_success_at"))
        return None
    return when
