"""Throughput and memory of the intake pipeline on the embedded default.

Prints figures; asserts nothing. Usage:

    uv run python benchmarks/intake_throughput.py [N]

Generates N French support mails (a third with a 200 kB attachment, a third
replies with quoted history), then measures (1) parse only, (2) the whole poll:
Maildir -> parse -> classify -> thread -> SQLite -> outbox, (3) one flush to a
Maildir, and the peak resident memory of the process.
"""

from __future__ import annotations

import email.policy
import os
import resource
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from mailbot.config import Config
from mailbot.parse import parse_mail
from mailbot.service import Service


def make_mail(i: int) -> bytes:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = f"Enseignant {i} <prof{i}@ecole{i % 50}.example>"
    message["To"] = "support@ecarnet.example"
    message["Subject"] = f"Problème de synchronisation n°{i}"
    message["Message-ID"] = f"<bench-{i}@ecole{i % 50}.example>"
    message["Date"] = "Mon, 23 Nov 2026 08:12:00 +0100"
    body = ("Bonjour,\n\nLa synchronisation reste bloquée à 45 % depuis hier soir sur "
            "l'iPad de la classe. J'ai redémarré l'application sans succès.\n\nMerci,\n")
    if i % 3 == 1:
        body += ("\nLe lun. 23 nov. 2026 à 08:00, Support e-carnet "
                 "<support@ecarnet.example> a écrit :\n" + "> ligne citée\n" * 40)
    message.set_content(body, cte="quoted-printable")
    if i % 3 == 2:
        message.add_attachment(os.urandom(200_000), maintype="image", subtype="jpeg",
                               filename=f"capture-{i}.jpg")
    return message.as_bytes()


def main(count: int) -> None:
    mails = [make_mail(i) for i in range(count)]
    size_mb = sum(map(len, mails)) / 1e6
    print(f"{count} mails, {size_mb:.1f} MB")

    start = time.perf_counter()
    for raw in mails:
        parse_mail(raw)
    elapsed = time.perf_counter() - start
    print(f"parse only:        {count / elapsed:8.0f} msgs/s  ({elapsed:.2f} s)")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = Config()
        config.database.url = f"sqlite:///{root / 'bench.db'}"
        config.source.maildir.path = root / "inbox"
        config.sender.maildir.path = root / "sent"
        (root / "inbox" / "new").mkdir(parents=True)
        for i, raw in enumerate(mails):
            (root / "inbox" / "new" / f"{i:08d}.bench").write_bytes(raw)
        service = Service.from_config(config)

        start = time.perf_counter()
        report = service.poll()
        elapsed = time.perf_counter() - start
        print(f"poll (to SQLite):  {count / elapsed:8.0f} msgs/s  ({elapsed:.2f} s) "
              f"{dict(report.counts)}")

        start = time.perf_counter()
        flushed = service.flush()
        elapsed = time.perf_counter() - start
        print(f"flush to Maildir:  {flushed.sent / elapsed:8.0f} msgs/s  ({elapsed:.2f} s)")
        print(f"database size:     {(root / 'bench.db').stat().st_size / 1e6:8.1f} MB")

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS:          {peak_kb / 1024:8.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
