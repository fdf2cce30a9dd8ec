"""Every real-world mail of ../shared/corpus/eml through the whole pipeline: all accounted."""

from __future__ import annotations

import shutil
from collections import Counter

from tests.conftest import shared_dir
from tests.helpers import incoming


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
    print("\ncorpus through the pipeline:", dict(sorted(outcomes.items())),
          f"already processed {already}")
    assert sum(report.counts.values()) == len(files)
    assert sum(outcomes.values()) + already == len(files)
    assert set(outcomes) <= {"new_ticket", "appended", "ignored", "quarantined"}
    assert all(m.outcome_reason for m in incoming(service))
    # Quarantine here only ever means "nobody to answer"; no stage crashed on real mail.
    assert {m.outcome_reason for m in incoming(service) if m.outcome == "quarantined"} <= {
        "act: QuarantineMail: no usable sender address in From"}
    assert not any((inbox / "new").iterdir())  # every file was acknowledged
