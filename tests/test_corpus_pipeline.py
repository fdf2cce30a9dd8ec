"""Every real-world mail of ../shared/corpus/eml through the whole pipeline: all accounted."""

from __future__ import annotations

import re
import shutil
from collections import Counter

from tests.conftest import shared_dir
from tests.helpers import incoming

_ADDRESS = re.compile(r"[\w.+-]+@[\w.-]+|<[^<>]*>")
_REF = re.compile(r"ECN-[0-9A-Z]{6}")
_NUMBER = re.compile(r"\d+")


def reason_class(reason: str) -> str:
    """A reason without what varies from mail to mail (addresses, ids, numbers)."""
    text = _NUMBER.sub("N", _REF.sub("ECN-…", _ADDRESS.sub("<…>", reason)))
    return text if len(text) <= 70 else text[:69] + "…"


def summary(rows: list[tuple[str, str]]) -> str:
    """Outcome x reason counts as an aligned table, biggest first within each outcome."""
    counts = Counter((outcome, reason_class(reason)) for outcome, reason in rows)
    width = max(len(reason) for _, reason in counts)
    lines = [f"{'outcome':<12} {'reason':<{width}} {'mails':>5}"]
    for (outcome, reason), count in sorted(counts.items(), key=lambda i: (i[0][0], -i[1])):
        lines.append(f"{outcome:<12} {reason:<{width}} {count:>5}")
    lines.append(f"{'total':<12} {'':<{width}} {len(rows):>5}")
    return "\n".join(lines)


def test_every_corpus_mail_ends_in_exactly_one_outcome(service, inbox):
    files = sorted(shared_dir("corpus/eml").rglob("*.eml"))
    assert len(files) >= 200
    (inbox / "new").mkdir(parents=True, exist_ok=True)
    for number, path in enumerate(files):
        shutil.copyfile(path, inbox / "new" / f"{number:04d}.corpus")  # a copy, never edited

    report = service.poll()  # no exception may escape
    service.flush()

    outcomes = Counter(m.outcome for m in incoming(service))
    already = report.counts.get("already_processed", 0)  # byte-identical files in the corpus
    print(f"\n{len(files)} corpus mails through the pipeline ({already} byte-identical "
          "copies recognised as already processed):")
    print(summary([(m.outcome, m.outcome_reason) for m in incoming(service)]
                  + [("(none)", "already processed")] * already))
    assert sum(report.counts.values()) == len(files)
    assert sum(outcomes.values()) + already == len(files)
    assert set(outcomes) <= {"new_ticket", "appended", "ignored", "quarantined"}
    assert all(m.outcome_reason for m in incoming(service))
    # Quarantine here only ever means "nobody to answer"; no stage crashed on real mail.
    assert {m.outcome_reason for m in incoming(service) if m.outcome == "quarantined"} <= {
        "act: QuarantineMail: no usable sender address in From"}
    assert not any((inbox / "new").iterdir())  # every file was acknowledged
