"""Speed of rule evaluation (``mailbot.rules``): 500 rules on one realistic message.

Prints figures; asserts nothing. Usage:

    uv run python benchmarks/rules_eval.py [RUNS]

500 rules with varied conditions (French words and phrases with wildcards,
regular expressions, version comparisons, report fields, attachments, time,
nested all/any/not) are written as TOML in 10 files and loaded like real
ones. The message is an e-carnet assistance report (with students, journal and
attachments) that goes through parse, classify and report extraction first;
then :meth:`RuleSet.evaluate` runs RUNS times (default 2000) and the median
is printed (goal: at most 2 ms), with the time to load the files and the
cost of :meth:`RuleWatcher.current` when nothing changed.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.classify import OwnIdentity, classify  # noqa: E402
from mailbot.parse import parse_mail  # noqa: E402
from mailbot.privacy import load_keys  # noqa: E402
from mailbot.report_intake import analyse  # noqa: E402
from mailbot.reports import ReportSettings  # noqa: E402
from mailbot.rules import RuleWatcher, facts_from, load_rules  # noqa: E402
from tests.reportmail import build_report_mail  # noqa: E402

N_RULES, N_FILES = 500, 10
VOCABULARY = (
    "synchronisation bloqué* urgent élève* classe photo* vidéo* livret évaluation compétence* "
    "stockage mémoire export pdf imprim* tablette ipad android connexion identifiant "
    "parent* partage* année archive* sauvegarde* erreur* plantage lent* écran appli* "
    "mise à jour version hors ligne réseau wifi inscription directeur école cantine "
    "absence* carnet* portfolio* observation* progression* socle bulletin* trimestre"
).split()
PHRASES = ("mot de passe", "plus de place", "ne se synchronise", "conseil de classe demain",
           "plus rien ne marche", "inspection demain", "fin d'année", "liste des élèves")


def _words(rng: random.Random, n: int) -> str:
    picked = [*rng.sample(VOCABULARY, n - 1), rng.choice(PHRASES)]
    return "[" + ", ".join(f'"{w}"' for w in picked) + "]"


def condition(i: int, rng: random.Random) -> str:
    """The ``when`` lines of rule *i*: one of ten shapes, with random values."""
    shape = i % 10
    minor = rng.randint(0, 9)
    return [
        f"when.words = {_words(rng, 6)}",
        f'when.subject_words = {_words(rng, 3)}\nwhen.kind = "normal"',
        f"when.text_regex = 'SYNC-{rng.randint(100, 999)}|erreur\\s+{rng.randint(1, 99)}\\b'",
        f'when.app_version = "<2.{minor}.{rng.randint(0, 9)}"\n'
        f'when.error_code = ["SYNC-{rng.randint(500, 510)}", "NET-*"]',
        "when.any = [\n  { sync_state = [\"bloquee\", \"erreur\"] },\n"
        f"  {{ finding = \"{rng.choice(['storage_low', 'sync_stale', 'app_outdated'])}\" }},\n]",
        f'when.sender_domain = ["ac-{rng.choice(["lyon", "paris", "nantes"])}.fr"]\n'
        f'when.language = "fr"',
        f'when.attachment = {{ type = "video/*", size = "> {rng.randint(5, 50)} Mo" }}',
        f'when.any = [\n  {{ weekday = ["samedi", "dimanche"] }},\n'
        f'  {{ time = "{rng.randint(18, 21)}:00-0{rng.randint(6, 8)}:00" }},\n]',
        f"when.all = [\n  {{ words = {_words(rng, 4)} }},\n"
        f"  {{ not = {{ words = [\"pas urgent\", \"{rng.choice(VOCABULARY)}\"] }} }},\n]",
        f'when.os = ["iPadOS", "Android"]\nwhen.os_version = ">={rng.randint(12, 18)}"',
    ][shape]


def action(i: int, rng: random.Random) -> str:
    """The ``then`` lines of rule *i*."""
    return rng.choice([
        'then.priority = "urgente"', 'then.team = "technique"', 'then.team = "pedagogique"',
        f'then.tags = ["theme-{i % 37}"]', "then.suggest_faq = true",
        'then.status = "en cours d\'analyse"', f'then.suggest_faq = ["article-{i % 23}"]',
    ])


def write_rules(folder: Path) -> None:
    """N_RULES rules in N_FILES files, like a support team would write them."""
    rng = random.Random(20261125)
    for f in range(N_FILES):
        parts = []
        for j in range(N_RULES // N_FILES):
            i = f * (N_RULES // N_FILES) + j
            parts.append(f'[[rule]]\nname = "regle-{i:03d}"\ndescription = "Règle de test {i}"\n'
                         f"{condition(i, rng)}\n{action(i, rng)}\n")
        (folder / f"{f:02d}-theme.toml").write_text("\n".join(parts), encoding="utf-8")


def realistic_facts():
    """A report mail with students, journal and attachments, as the pipeline sees it."""
    parsed = parse_mail(build_report_mail(n_students=28, app_version="2.2.4"))
    identity = OwnIdentity(frozenset({"support@ecarnet.example"}),
                           frozenset({"mailbot.ecarnet.example"}))
    kind = classify(parsed.message, parsed.from_addr, identity).kind.value
    with tempfile.TemporaryDirectory() as keys_dir:
        report = analyse(parsed, ReportSettings(), load_keys(Path(keys_dir) / "k", create=False))
    assert report is not None
    return facts_from(parsed, kind, "fr", report.to_json(),
                      dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC))


def median_us(fn, runs: int) -> float:
    """Median wall time of *fn* in microseconds over *runs* calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_rules(folder)
        start = time.perf_counter()
        rules = load_rules(folder)
        load_ms = (time.perf_counter() - start) * 1000
        facts = realistic_facts()
        decision = rules.evaluate(facts)
        print(f"{len(rules)} rules in {len(rules.files)} files, loaded in {load_ms:.0f} ms")
        print(f"message: report, {len(facts.text)} chars of new text, "
              f"{len(facts.attachments)} attachments, "
              f"{len(facts.report['error_codes'])} error codes, "
              f"{len(facts.report['findings'])} findings")
        print(f"matched {len(decision.matched)} rules, {len(decision.trace)} trace lines")
        evaluate = median_us(lambda: rules.evaluate(facts), runs)
        print(f"evaluate: median {evaluate / 1000:.3f} ms over {runs} runs (goal <= 2 ms)")
        to_json = median_us(lambda: rules.evaluate(facts).to_json(), runs)
        print(f"evaluate + to_json (trace as JSON): median {to_json / 1000:.3f} ms")
        watcher = RuleWatcher(folder)
        current = median_us(watcher.current, runs)
        print(f"RuleWatcher.current() with no change (stat of {N_FILES} files): "
              f"median {current:.1f} µs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
