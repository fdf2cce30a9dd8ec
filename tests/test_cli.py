"""The mailbot command: demo, tickets, messages, inspect (including the real corpus)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mailbot.cli import app
from tests.conftest import shared_dir
from tests.mails import make_mail

INSPECT_KEYS = {"message_id", "from", "subject", "kind", "reply_text", "ticket_ref",
                "attachments", "report", "defects"}
runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_runs_the_loop_and_a_second_run_adds_nothing(tmp_path):
    demo = tmp_path / "demo"
    first = invoke("demo", "--dir", str(demo))
    assert "seeded 10 new sample mail(s)" in first
    # The teacher's reply, the resent report, Marie's solution, « ça marche », the rating.
    assert "appended 5, ignored 2, new_ticket 3" in first and "sent 7" in first
    assert "2.2.4|SYNC-504" in first  # the demo report's incident
    sent = sorted((demo / "sent" / "new").iterdir())
    assert len(sent) == 7  # 3 acknowledgements, the solution, « résolu », 2 copies for Marie

    second = invoke("demo", "--dir", str(demo))
    assert "seeded 0 new sample mail(s)" in second and "nothing new" in second
    assert sorted((demo / "sent" / "new").iterdir()) == sent
    config = str(demo / "mailbot.toml")
    listing = invoke("tickets", "list", "--config", config)
    assert listing.count("nouvelle demande") == 2

    ref = next(line.split()[0] for line in listing.splitlines() if "elodie" in line)
    shown = invoke("tickets", "show", ref, "--config", config)
    assert f"{ref}  [résolu]" in shown and "Je précise" in shown
    assert "solution proposée -> résolu" in shown and "rating: 5/5" in shown
    assert "La version 2.2.5 corrige l'envoi" in shown  # Marie's answer, on the ticket
    assert "> Bonjour" not in shown  # the reply's quoted history was stripped
    ignored = invoke("messages", "list", "--outcome", "ignored", "--config", config)
    assert "auto_reply: Auto-Submitted" in ignored and "bounce:" in ignored

    report_ref = next(line.split()[0] for line in listing.splitlines() if "claire" in line)
    diagnosis = invoke("tickets", "show", report_ref, "--config", config)
    assert "Diagnostic (rapport d'assistance e-carnet" in diagnosis
    for code_text in ("Stockage presque plein", "absent de eleves.csv",
                      "antérieure à la version actuelle"):
        assert code_text in diagnosis


def test_tickets_show_unknown_ref_fails(tmp_path):
    invoke("demo", "--dir", str(tmp_path))
    result = runner.invoke(app, ["tickets", "show", "ECN-000000",
                                 "--config", str(tmp_path / "mailbot.toml")])
    assert result.exit_code == 1 and "no ticket ECN-000000" in result.output


def test_inspect_json_contract(tmp_path):
    path = tmp_path / "m.eml"
    path.write_bytes(make_mail(Subject="Re: [#ECN-4F7K2Q] Demande reçue"))
    data = json.loads(invoke("inspect", str(path), "--json"))
    assert data.keys() >= INSPECT_KEYS
    assert data["from"] == "elodie.martin@ecole-jules-ferry.example"
    assert data["kind"] == "normal" and data["ticket_ref"] == "ECN-4F7K2Q"
    assert data["subject"] == "Re: [#ECN-4F7K2Q] Demande reçue"
    assert data["report"] is None and data["attachments"] == []
    assert data["reply_text"].startswith("Bonjour,")


def test_inspect_garbage_describes_instead_of_crashing(tmp_path):
    path = tmp_path / "garbage.eml"
    path.write_bytes(b"\x00\xff\xfe not a mail at all \x80\x81\r\n\r\n--\r\n")
    data = json.loads(invoke("inspect", str(path), "--json"))
    assert data.keys() >= INSPECT_KEYS and data["defects"]


def test_console_script_entry_point(tmp_path):
    path = tmp_path / "m.eml"
    path.write_bytes(make_mail())
    done = subprocess.run([sys.executable, "-m", "mailbot", "inspect", str(path), "--json"],
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["message_id"] == "<q1@ecole-jules-ferry.example>"


def corpus_files():
    return sorted(shared_dir("corpus/eml").rglob("*.eml"))


def test_inspect_every_corpus_message():
    files = corpus_files()
    assert len(files) >= 200
    failures = []
    for path in files:
        result = runner.invoke(app, ["inspect", str(path), "--json"])
        try:
            data = json.loads(result.output)
        except json.JSONDecodeError:
            failures.append(f"{path.name}: not JSON (exit {result.exit_code})")
            continue
        if result.exit_code != 0 or not data.keys() >= INSPECT_KEYS:
            failures.append(f"{path.name}: exit {result.exit_code}, keys {sorted(data)}")
        elif data["kind"] not in {"normal", "auto_reply", "bounce", "list", "own"}:
            failures.append(f"{path.name}: kind {data['kind']}")
    assert failures == []


@pytest.mark.parametrize("name", ["sisimai/bsd/lhost-exchange2007-06.eml"])
def test_french_exchange_bounce_from_the_corpus_is_a_bounce(name):
    path = shared_dir("corpus/eml") / name
    data = json.loads(invoke("inspect", str(path), "--json"))
    assert data["kind"] == "bounce"


def test_status_is_zero_when_all_is_well_and_one_when_a_person_is_needed(tmp_path):
    invoke("demo", "--dir", str(tmp_path))
    config = str(tmp_path / "mailbot.toml")
    calm = runner.invoke(app, ["status", "--config", config])
    assert calm.exit_code == 0, calm.output
    assert "today: appended 5, ignored 2, new_ticket 3" in calm.output
    assert "outbox: 0 pending, 0 failed" in calm.output and "all well" in calm.output

    (tmp_path / "inbox" / "new" / "9999.broken").write_bytes(b"Subject: no sender\r\n\r\nx\r\n")
    invoke("poll", "--once", "--config", config)
    troubled = runner.invoke(app, ["status", "--config", config])
    assert troubled.exit_code == 1
    assert "1 quarantined message(s)" in troubled.output


def test_quarantine_show_and_replay_all(tmp_path):
    invoke("demo", "--dir", str(tmp_path))
    config = str(tmp_path / "mailbot.toml")
    (tmp_path / "inbox" / "new" / "9999.broken").write_bytes(b"Subject: no sender\r\n\r\nx\r\n")
    invoke("poll", "--once", "--config", config)
    listing = invoke("quarantine", "list", "--config", config)
    row_id = next(line.split()[0] for line in listing.splitlines() if "quarantined" in line)
    shown = invoke("quarantine", "show", row_id, "--config", config)
    assert "no usable sender address" in shown and "Traceback" in shown
    again = runner.invoke(app, ["quarantine", "replay", "--all", "--config", config])
    assert again.exit_code == 1 and "still failing" in again.output  # still no sender: kept
    assert row_id in invoke("quarantine", "list", "--config", config)
