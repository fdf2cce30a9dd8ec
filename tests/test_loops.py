"""The last guard on automatic mail: noreply and deny-listed senders, rate limits."""

from __future__ import annotations

import pytest

from mailbot.service import Service
from mailbot.store.models import TicketEvent
from tests.helpers import deliver, local_config, outbox, rows, tickets
from tests.mails import make_mail


def suppressed(service: Service) -> list[str]:
    return [e.detail for e in rows(service, TicketEvent) if e.kind == "auto_reply_suppressed"]


@pytest.mark.parametrize("sender", ["noreply@plateforme.example", "ne-pas-repondre@ac.example",
                                    "No-Reply+42@service.example", "do-not-reply@x.example"])
def test_noreply_senders_get_a_ticket_but_no_automatic_answer(service, inbox, sender):
    deliver(inbox, make_mail(From=sender), "1")
    assert service.poll().counts == {"new_ticket": 1}
    assert len(tickets(service)) == 1 and outbox(service) == []
    [reason] = suppressed(service)
    assert "noreply-style" in reason


def test_deny_list_from_the_configuration(tmp_path):
    config = local_config(tmp_path)
    config.loops.deny = ["*@robot.example"]
    service = Service.from_config(config)
    deliver(config.source.maildir.path, make_mail(From="alerts@robot.example"), "1")
    service.poll()
    assert outbox(service) == [] and "deny-listed" in suppressed(service)[0]


def test_at_most_five_automatic_mails_per_recipient_per_hour(service, inbox):
    for i in range(7):
        deliver(inbox, make_mail(f"Question {i}", message_id=f"<q{i}@x.example>",
                                 Subject=f"Question {i}"), f"{i}")
    assert service.poll().counts == {"new_ticket": 7}
    assert len(outbox(service)) == 5
    assert len(suppressed(service)) == 2
    assert all("5 automatic mails in the last hour" in r for r in suppressed(service))
    deliver(inbox, make_mail("Autre", message_id="<other@y.example>",
                             From="paul@ecole.example"), "9")
    service.poll()
    assert len(outbox(service)) == 6  # other people are not affected
