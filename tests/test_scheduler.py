"""`mailbot run` as a real process: polls, sends, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.mails import make_mail


def test_run_polls_sends_and_stops_cleanly_on_sigterm(tmp_path):
    config = tmp_path / "mailbot.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///mailbot.db"\n'
        '[source]\nkind = "maildir"\nmaildir.path = "inbox"\n'
        '[sender]\nkind = "maildir"\nmaildir.path = "sent"\n'
        "[schedule]\npoll_interval_seconds = 0.2\nflush_interval_seconds = 0.2\n",
        encoding="utf-8")
    (tmp_path / "inbox" / "new").mkdir(parents=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "mailbot", "run", "--config", str(config)],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        (tmp_path / "inbox" / "new" / "1").write_bytes(make_mail())
        sent = tmp_path / "sent" / "new"
        deadline = time.monotonic() + 30
        while not (sent.is_dir() and any(sent.iterdir())) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sent.is_dir() and len(list(sent.iterdir())) == 1
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, log
    assert "received SIGTERM" in log and "stopped" in log
    assert "Traceback" not in log
