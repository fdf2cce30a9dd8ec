"""Quality of FAQ suggestions (``mailbot.faq``) on a labelled question set.

Prints figures; asserts nothing. Usage:

    uv run python benchmarks/faq_quality.py [--kb DIR] [--questions TSV] [--sweep] [--misses]

The questions (benchmarks/faq_questions.tsv) are written as teachers write to
support: informal French with typos and missing accents, SMS style, English,
whole mails with greeting and signature; each names the article it should
find, or ``-`` for off-topic mail that must get no suggestion. Each row
belongs to the ``tune`` or the ``test`` split (a third file,
benchmarks/faq_questions_fresh.tsv, holds the ``fresh`` split, written later in
teachers' own vocabulary and never used for tuning): only ``tune`` rows may be
used to choose the confidence threshold (``--sweep`` shows the curve on them
and picks the highest threshold keeping top-3 at 90 %, since no suggestion
beats a wrong one); the figures are printed for ``tune``, held-out ``test``
``fresh`` and all rows, at the threshold the code ships with.

- top-1: the first suggestion is the expected article;
- top-3: the expected article is among the (at most three) suggestions;
- suppressed: share of off-topic questions with no suggestion at all.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.faq import DEFAULT_THRESHOLD, KnowledgeBase, default_faq_dir  # noqa: E402

QUESTIONS = Path(__file__).with_name("faq_questions.tsv")
FRESH = Path(__file__).with_name("faq_questions_fresh.tsv")
"""The ``fresh`` split: paraphrases in teachers' vocabulary, written before the
lexicon and negative-evidence changes (since read while tuning: see docs/faq.md)."""
HELDOUT = Path(__file__).with_name("faq_questions_heldout.tsv")
"""The ``heldout`` split: written by someone who saw only the articles' titles."""
SPLITS = ("tune", "test", "fresh", "heldout")
OFF_TOPIC = "-"


@dataclass(frozen=True)
class Case:
    """One labelled question and the ranked (id, confidence) list the base gave it."""

    split: str
    expected: str
    app_version: str | None
    question: str
    ranked: tuple[tuple[str, float], ...]

    def suggested(self, threshold: float) -> list[str]:
        """Ids suggested at *threshold* (at most three)."""
        return [i for i, score in self.ranked if score >= threshold][:3]


def read_questions(path: Path) -> list[tuple[str, str, str | None, str]]:
    """``(split, expected, app_version, question)`` rows of the TSV file."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 4 or parts[0] not in SPLITS:
            raise SystemExit(f"{path}:{number}: expected split, id, version, question")
        split, expected, version, question = parts
        rows.append((split, expected, version or None, question.replace("\\n", "\n")))
    return rows


def evaluate(cases: list[Case], threshold: float) -> tuple[float, float, float, int, int]:
    """(top-1, top-3, suppressed, on-topic count, off-topic count) at *threshold*."""
    on = [c for c in cases if c.expected != OFF_TOPIC]
    off = [c for c in cases if c.expected == OFF_TOPIC]
    top1 = sum(bool(s := c.suggested(threshold)) and s[0] == c.expected for c in on)
    top3 = sum(c.expected in c.suggested(threshold) for c in on)
    quiet = sum(not c.suggested(threshold) for c in off)
    return (top1 / max(len(on), 1), top3 / max(len(on), 1), quiet / max(len(off), 1),
            len(on), len(off))


def report_line(name: str, cases: list[Case], threshold: float) -> str:
    """One formatted result line."""
    top1, top3, quiet, n_on, n_off = evaluate(cases, threshold)
    return (f"{name:<9} on-topic {n_on:>3}: top-1 {top1:6.1%}  top-3 {top3:6.1%}   "
            f"off-topic {n_off:>3}: suppressed {quiet:6.1%}")


def sweep(cases: list[Case], goal: float = 0.9) -> float:
    """Print the threshold curve on *cases*; return the highest threshold that still
    finds the expected article in the top 3 for *goal* of them (silence is safer)."""
    best = 0.05
    print("threshold sweep on the tune split:")
    for step in range(5, 96, 5):
        threshold = step / 100
        top1, top3, quiet, _, _ = evaluate(cases, threshold)
        print(f"  {threshold:.2f}: top-1 {top1:6.1%}  top-3 {top3:6.1%}  suppressed {quiet:6.1%}")
        if top3 >= goal:
            best = threshold
    print(f"  highest threshold with top-3 >= {goal:.0%} on tune: {best:.2f} "
          f"(shipped default: {DEFAULT_THRESHOLD:.2f})\n")
    return best


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, default=default_faq_dir())
    parser.add_argument("--questions", type=Path, nargs="+", default=[QUESTIONS, FRESH, HELDOUT],
                        help="TSV files (default: tune/test, fresh and heldout)")
    parser.add_argument("--sweep", action="store_true", help="threshold curve on tune rows")
    parser.add_argument("--misses", action="store_true", help="list the failing questions")
    args = parser.parse_args()
    kb = KnowledgeBase.load(args.kb)
    cases = []
    rows = [row for path in args.questions for row in read_questions(path)]
    for split, expected, version, question in rows:
        if expected != OFF_TOPIC and kb.article(expected) is None:
            raise SystemExit(f"unknown article id {expected!r} in {args.questions}")
        ranked = tuple((s.article.id, s.score) for s in kb.scored(question, app_version=version))
        cases.append(Case(split, expected, version, question, ranked))
    print(f"{len(kb.articles)} articles, {len(cases)} questions, "
          f"threshold {kb.threshold:.2f}\n")
    if args.sweep:
        sweep([c for c in cases if c.split == "tune"])
    for name in SPLITS:
        split_cases = [c for c in cases if c.split == name]
        if split_cases:
            print(report_line(name, split_cases, kb.threshold))
    print(report_line("tune+test", [c for c in cases if c.split in ("tune", "test")],
                      kb.threshold))
    print(report_line("all", cases, kb.threshold))
    if args.misses:
        print("\nmisses:")
        for case in cases:
            got = case.suggested(kb.threshold)
            wrong = case.expected not in got if case.expected != OFF_TOPIC else bool(got)
            if wrong:
                top = ", ".join(f"{i} {s:.2f}" for i, s in case.ranked[:3]) or "nothing"
                text = case.question.replace("\n", " / ")[:90]
                print(f"  [{case.split}] want {case.expected}: {text!r}\n      got {top}")


if __name__ == "__main__":
    main()
