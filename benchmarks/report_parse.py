"""Speed and memory of e-carnet report extraction (``mailbot.reports``).

Prints figures; asserts nothing. Usage:

    uv run python benchmarks/report_parse.py [RUNS]

1. A 5,000-student report (eleves.csv + medias.csv + journal): median time of
   ``parse_mail`` and of ``extract_report`` + ``to_json`` over RUNS runs; then
   ``name_digests`` of that report and ``scrub_with_digests`` of a 4,800-word text.
2. Hostile attachments, each built here, then parsed and extracted in a fresh
   subprocess whose RSS is printed before ``extract_report`` and its peak during
   it (the peak is reset after ``parse_mail`` through ``/proc/self/clear_refs``,
   so the delta is the extraction's own), with the time of ``extract_report``:

   - a journal that is a gzip bomb (200 MB of zeros, ~200 kB compressed);
   - a journal that is a newline bomb (200 MB of ``x\\n``, ~200 kB compressed:
     the reader stops at ``journal_max_bytes`` = 20 MB, ten million bad lines);
   - an eleves.csv of fifteen million one-field lines (30 MB, every row bad);
   - an eleves.csv whose second line is one 40 MB field, then six readable rows.
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
from mailbot.reports import ReportSettings, extract_report, scrub_with_digests  # noqa: E402
from tests.reportmail import (  # noqa: E402
    build_report_mail,
    class_list,
    eleves_csv,
    huge_line_csv,
    many_lines_csv,
    pseudonymise,
)

CHILD = """
import gc, json, resource, sys, time
sys.path.insert(0, {root!r})
from mailbot.parse import parse_mail
from mailbot.reports import ReportSettings, extract_report


def peak_kb(reset=False):
    # Linux: writing 5 to clear_refs resets the peak (VmHWM) to the current RSS, so the
    # peak measured after extract_report is its own, not parse_mail's.
    try:
        if reset:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
        with open("/proc/self/status") as status:
            return int(next(l for l in status if l.startswith("VmHWM:")).split()[1])
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


raw = open({path!r}, "rb").read()
parsed = parse_mail(raw)
gc.collect()
before = peak_kb(reset=True)
start = time.perf_counter()
report = extract_report(parsed, ReportSettings(), lambda value: "ELV-" + str(hash(value)))
elapsed = time.perf_counter() - start
after = peak_kb()
result = {{"mail_bytes": len(raw), "before_kb": before, "after_kb": after, "seconds": elapsed,
          "findings": [f"{{f.code}}: {{f.message}} [{{f.where}}]" for f in report.findings],
          "students": report.students_total}}
if {contrast!r}:  # what an unbounded gzip.decompress() of the journal costs
    import gzip
    journal = next(p for p in parsed.message.walk()
                   if p.get_filename() == "journal-24h.log.gz")
    result["naive_bytes"] = len(gzip.decompress(journal.get_payload(decode=True)))
    result["naive_kb"] = peak_kb()
print(json.dumps(result))
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
    key = bytes(32)
    start = time.perf_counter()
    digests = report.name_digests(key)
    middle = time.perf_counter()
    text = "Bonjour, les photos de Léa Fontaine ne remontent pas depuis hier soir. " * 400
    scrubbed = scrub_with_digests(text, digests, key)
    end = time.perf_counter()
    print(f"  name_digests              {(middle - start) * 1000:7.1f} ms  ({len(digests)} forms)")
    print(f"  scrub_with_digests        {(end - middle) * 1000:7.1f} ms  (4,800 words, "
          f"same text as scrub(): {scrubbed == report.scrub(text)})")


def in_subprocess(title: str, raw: bytes, contrast: bool = False) -> None:
    """Extract *raw* in a fresh interpreter; print its peak RSS, time and findings."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.eml"
        path.write_bytes(raw)  # built here, not in the child
        code = CHILD.format(root=str(ROOT), path=str(path), contrast=contrast)
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True, cwd=ROOT)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"{title}, in a fresh subprocess:")
    print(f"  mail size                {result['mail_bytes'] / 1024:9.0f} kB")
    print(f"  RSS before extract       {result['before_kb'] / 1024:9.1f} MB")
    print(f"  peak RSS during extract  {result['after_kb'] / 1024:9.1f} MB  "
          f"(+{(result['after_kb'] - result['before_kb']) / 1024:.1f} MB)")
    print(f"  extract time             {result['seconds'] * 1000:9.1f} ms")
    if contrast:
        print(f"  contrast: gzip.decompress() of the same journal -> "
              f"{result['naive_bytes'] / 2**20:.0f} MB, "
              f"peak RSS {result['naive_kb'] / 1024:.1f} MB")
    print(f"  students_total           {result['students']}")
    for finding in result["findings"]:
        print(f"  finding  {finding}")


def hostile_attachments() -> None:
    in_subprocess("gzip bomb journal (200 MB of zeros)", build_report_mail(gzip_bomb=True),
                  contrast=True)
    in_subprocess("newline bomb journal (200 MB of 'x\\n', read up to 20 MB)",
                  build_report_mail(journal="newline_bomb"))
    in_subprocess("eleves.csv of 15,000,000 bad lines (30 MB)",
                  build_report_mail(eleves_bytes=many_lines_csv(15_000_000)))
    after = eleves_csv(class_list(7)[1:], sensitive_excluded=False).split("\n", 1)[1]
    in_subprocess("eleves.csv with one 40 MB field, then readable rows",
                  build_report_mail(eleves_bytes=huge_line_csv(40 * 2**20, after=after)))


if __name__ == "__main__":
    five_thousand(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    hostile_attachments()
    print(f"(this process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
          " MB)")
