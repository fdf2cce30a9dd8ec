"""Speed and memory of e-carnet report extraction (``mailbot.reports``).

Prints figures; asserts nothing. Usage:

    uv run python benchmarks/report_parse.py [RUNS]

1. A 5,000-student report (eleves.csv + medias.csv + journal): median time of
   ``parse_mail`` and of ``extract_report`` + ``to_json`` over RUNS runs.
2. A report whose journal is a gzip bomb (200 MB of zeros, ~200 kB compressed):
   built here, then parsed and extracted in a fresh subprocess, whose peak RSS is
   printed before and after ``extract_report``: the delta is the extraction's own.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.parse import parse_mail  # noqa: E402
from mailbot.reports import ReportSettings, extract_report  # noqa: E402
from tests.reportmail import build_report_mail, pseudonymise  # noqa: E402

BOMB_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from mailbot.parse import parse_mail
from mailbot.reports import ReportSettings, extract_report
raw = open({path!r}, "rb").read()
parsed = parse_mail(raw)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
report = extract_report(parsed, ReportSettings(), lambda value: "ELV-" + str(hash(value)))
elapsed = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import gzip  # for contrast: what an unbounded gzip.decompress() of the journal costs
journal = next(p for p in parsed.message.walk() if p.get_filename() == "journal-24h.log.gz")
naive = len(gzip.decompress(journal.get_payload(decode=True)))
naive_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"mail_bytes": len(raw), "before_kb": before, "after_kb": after,
                  "seconds": elapsed, "codes": report.finding_codes(),
                  "naive_bytes": naive, "naive_kb": naive_kb}}))
"""


def five_thousand(runs: int) -> None:
    raw = build_report_mail(n_students=5000)
    parse_times, extract_times = [], []
    for _ in range(runs):
        start = time.perf_counter()
        parsed = parse_mail(raw)
        middle = time.perf_counter()
        report = extract_report(parsed, ReportSettings(), pseudonymise)
        report.to_json()
        end = time.perf_counter()
        parse_times.append(middle - start)
        extract_times.append(end - middle)
    print(f"5,000-student report: {len(raw) / 1024:.0f} kB mail, {runs} runs")
    print(f"  parse_mail                median {statistics.median(parse_times) * 1000:7.1f} ms")
    print(f"  extract_report + to_json  median {statistics.median(extract_times) * 1000:7.1f} ms"
          f"  (min {min(extract_times) * 1000:.1f}, max {max(extract_times) * 1000:.1f})")
    print(f"  students {report.students_total}, findings {report.finding_codes()}")


def gzip_bomb() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bomb.eml"
        path.write_bytes(build_report_mail(gzip_bomb=True))  # built here, not in the child
        code = BOMB_CHILD.format(root=str(ROOT), path=str(path))
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True, cwd=ROOT)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print("gzip bomb journal (200 MB of zeros), in a fresh subprocess:")
    print(f"  mail size                {result['mail_bytes'] / 1024:7.0f} kB")
    print(f"  peak RSS before extract  {result['before_kb'] / 1024:7.1f} MB")
    print(f"  peak RSS after extract   {result['after_kb'] / 1024:7.1f} MB  "
          f"(+{(result['after_kb'] - result['before_kb']) / 1024:.1f} MB)")
    print(f"  extract time             {result['seconds'] * 1000:7.1f} ms")
    print(f"  contrast: gzip.decompress() of the same journal -> "
          f"{result['naive_bytes'] / 2**20:.0f} MB, peak RSS {result['naive_kb'] / 1024:.1f} MB")
    print(f"  findings                 {result['codes']}")


if __name__ == "__main__":
    five_thousand(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    gzip_bomb()
    print(f"(this process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
          " MB)")
