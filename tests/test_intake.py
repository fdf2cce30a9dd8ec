"""The intake pipeline on the embedded default (Maildir in, SQLite, Maildir out)."""

from __future__ import annotations

import pytest

from mailbot import acks
from mailbot.render import format_date
from mailbot.store.models import Outcome, TicketEvent, TicketStatus
from tests.helpers import as_message, deliver, incoming, outbox, rows, tickets
from tests.mails import make_mail


def test_new_mail_opens_a_ticket_and_queues_a_french_acknowledgement(service, inbox):
    deliver(inbox, make_mail(), "1")
    report = service.poll()

    assert report.counts == {"new_ticket": 1}
    [ticket] = tickets(service)
    assert ticket.status == TicketStatus.NEW == "nouvelle demande"
    assert ticket.requester == "elodie.martin@ecole-jules-ferry.example"
    assert ticket.language == "fr"
    [event] = rows(service, TicketEvent)
    assert (event.old_status, event.new_status) == (None, "nouvelle demande")

    [entry] = outbox(service)
    ack = as_message(entry.raw)
    assert ack["Subject"].startswith(f"[#{ticket.ref}] Demande reçue")
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<q1@ecole-jules-ferry.example>"
    assert ack["References"] == "<q1@ecole-jules-ferry.example>"
    assert ack["Message-ID"].endswith("@mailbot.ecarnet.example>")
    assert entry.rcpt_to == "elodie.martin@ecole-jules-ferry.example"
    body = ack.get_body(("plain",)).get_content()
    assert ticket.ref in body
    assert f"votre message du {format_date(ticket.created_at, 'fr', 'Europe/Paris')}" in body
    assert ack["Content-Language"] == "fr"


def test_the_same_mail_twice_is_processed_once(service, inbox):
    deliver(inbox, make_mail(), "1")
    service.poll()
    deliver(inbox, make_mail(), "2")  # a second copy, e.g. after a UIDVALIDITY reset
    report = service.poll()

    assert report.counts == {"already_processed": 1}
    assert len(tickets(service)) == 1 and len(incoming(service)) == 1 and len(outbox(service)) == 1
    assert service.poll().counts == {}  # both files are now flagged seen


def test_reply_to_the_acknowledgement_lands_on_the_ticket_with_only_the_new_text(service, inbox):
    deliver(inbox, make_mail(), "1")
    service.poll()
    [ticket], [ack] = tickets(service), outbox(service)
    reply = make_mail(
        "C'est bon, ça refonctionne après la mise à jour.\n\n"
        "Le lun. 23 nov. 2026 à 09:00, Support e-carnet <support@ecarnet.example> a écrit :\n"
        "> Bonjour,\n> Nous avons bien reçu votre message\n",
        message_id="<r1@ecole-jules-ferry.example>",
        Subject=f"Re: [#{ticket.ref}] Demande reçue", In_Reply_To=ack.message_id,
        References=f"<q1@ecole-jules-ferry.example> {ack.message_id}",
    )
    deliver(inbox, reply, "2")
    assert service.poll().counts == {"appended": 1}

    appended = [m for m in incoming(service) if m.outcome == Outcome.APPENDED]
    assert [m.ticket_id for m in appended] == [ticket.id]
    assert appended[0].body_text == "C'est bon, ça refonctionne après la mise à jour."
    assert len(outbox(service)) == 1  # no second acknowledgement


def test_tracking_number_in_subject_threads_without_references(service, inbox):
    deliver(inbox, make_mail(), "1")
    service.poll()
    [ticket] = tickets(service)
    deliver(inbox, make_mail("Une précision.", message_id="<r2@x.example>",
                             Subject=f"Suite {ticket.ref}"), "2")
    assert service.poll().counts == {"appended": 1}


def test_a_stranger_cannot_write_into_someone_elses_ticket(service, inbox):
    deliver(inbox, make_mail(), "1")
    service.poll()
    [ticket] = tickets(service)
    # The requester's own Message-ID proves nothing: their client chose it.
    intruder = make_mail("Fermez ce ticket.", message_id="<evil@other.example>",
                         From="mallory@other.example", Subject=f"Re: [#{ticket.ref}]",
                         In_Reply_To="<q1@ecole-jules-ferry.example>")
    deliver(inbox, intruder, "2")
    assert service.poll().counts == {"new_ticket": 1}
    stranger = next(m for m in incoming(service) if m.from_addr == "mallory@other.example")
    assert stranger.ticket_id != ticket.id
    assert f"refers to {ticket.ref}" in stranger.outcome_reason


def test_someone_in_copy_who_answers_the_thread_becomes_a_participant(service, inbox):
    deliver(inbox, make_mail(Cc="directrice@ecole-jules-ferry.example"), "1")
    service.poll()
    [ticket] = tickets(service)
    answer = make_mail("Je confirme, toute l'école est touchée.", message_id="<cc1@x.example>",
                       From="directrice@ecole-jules-ferry.example",
                       Subject="Re: Synchronisation bloquée",
                       In_Reply_To="<q1@ecole-jules-ferry.example>")
    deliver(inbox, answer, "2")
    assert service.poll().counts == {"appended": 1}
    # Having answered the thread, the tracking number alone now suffices for her.
    deliver(inbox, make_mail("Une précision.", message_id="<cc2@x.example>",
                             From="directrice@ecole-jules-ferry.example",
                             Subject=f"[#{ticket.ref}] précision"), "3")
    assert service.poll().counts == {"appended": 1}
    [ticket] = tickets(service)
    assert ticket.participants == ["directrice@ecole-jules-ferry.example"]


def test_reply_to_header_wins_for_the_acknowledgement(service, inbox):
    deliver(inbox, make_mail(Reply_To="secretariat@ecole-jules-ferry.example"), "1")
    service.poll()
    [entry] = outbox(service)
    assert entry.rcpt_to == "secretariat@ecole-jules-ferry.example"


def test_english_mail_gets_an_english_acknowledgement(service, inbox):
    body = "Hello,\n\nI cannot export the portfolio of my students, the app shows an error.\n"
    deliver(inbox, make_mail(body, Subject="Export does not work"), "1")
    service.poll()
    [entry] = outbox(service)
    assert as_message(entry.raw)["Subject"].endswith("Request received: Export does not work")


@pytest.mark.parametrize(("headers", "kind"), [
    ({"Auto_Submitted": "auto-replied", "Subject": "Réponse automatique : absent"},
     "auto_reply"),
    ({"From": "MAILER-DAEMON@mx.example", "Subject": "Undelivered Mail Returned to Sender"},
     "bounce"),
    ({"List_Id": "<profs.academie.example>"}, "list"),
    ({"From": "support@ecarnet.example"}, "own"),
])
def test_machine_mail_never_opens_a_ticket_nor_gets_an_answer(service, inbox, headers, kind):
    deliver(inbox, make_mail(**headers), "1")
    assert service.poll().counts == {"ignored": 1}
    [message] = incoming(service)
    assert message.outcome == "ignored" and message.outcome_reason.startswith(kind + ":")
    assert tickets(service) == [] and outbox(service) == []


def test_same_message_id_with_other_content_is_recorded_not_merged(service, inbox):
    deliver(inbox, make_mail(), "1")
    deliver(inbox, make_mail("Autre contenu"), "2")
    assert service.poll().counts == {"new_ticket": 1, "ignored": 1}
    ignored = next(m for m in incoming(service) if m.outcome == "ignored")
    assert "duplicate Message-ID" in ignored.outcome_reason


def test_mail_without_sender_is_quarantined_and_the_next_one_still_processed(service, inbox):
    deliver(inbox, make_mail(From=None, message_id="<nofrom@x.example>"), "1")
    deliver(inbox, make_mail(message_id="<ok@x.example>"), "2")
    assert service.poll().counts == {"quarantined": 1, "new_ticket": 1}
    quarantined = next(m for m in incoming(service) if m.outcome == "quarantined")
    assert "no usable sender" in quarantined.outcome_reason
    assert quarantined.raw_sealed and b"nofrom@x.example" not in quarantined.raw
    assert b"<nofrom@x.example>" in service.context.sealer.unseal(quarantined.raw)


def test_a_failing_stage_rolls_back_and_quarantines(service, inbox, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("template store unavailable")

    monkeypatch.setattr(acks, "queue_acknowledgement", broken)
    deliver(inbox, make_mail(), "1")
    assert service.poll().counts == {"quarantined": 1}
    [message] = incoming(service)
    assert message.outcome_reason == ("acknowledge: RuntimeError: template store unavailable")
    assert tickets(service) == [] and outbox(service) == []  # the half-made ticket is gone
    assert service.poll().counts == {}  # flagged seen: not retried in a loop


def test_user_text_is_never_evaluated_by_templates(service, inbox):
    deliver(inbox, make_mail(Subject="{{ 7*7 }} {% raw %}", From="{{ 6*7 }} <a@b.example>"), "1")
    service.poll()
    [entry] = outbox(service)
    ack = as_message(entry.raw)
    assert "{{ 7*7 }} {% raw %}" in ack["Subject"]
    assert "{{ 6*7 }}" in ack.get_body(("plain",)).get_content()


def test_quarantined_message_can_be_replayed_once_fixed(service, inbox, monkeypatch):
    from mailbot.poller import replay_quarantined

    real = acks.queue_acknowledgement
    monkeypatch.setattr(acks, "queue_acknowledgement",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full")))
    deliver(inbox, make_mail(), "1")
    service.poll()
    [row] = incoming(service)
    with pytest.raises(RuntimeError):  # still broken: the entry stays
        replay_quarantined(service.engine, row.id, service.context)
    assert [m.outcome for m in incoming(service)] == ["quarantined"]

    monkeypatch.setattr(acks, "queue_acknowledgement", real)
    result = replay_quarantined(service.engine, row.id, service.context)
    assert result.outcome == Outcome.NEW_TICKET
    assert [m.outcome for m in incoming(service)] == ["new_ticket"]
    assert len(tickets(service)) == 1 and len(outbox(service)) == 1
    with pytest.raises(LookupError):
        replay_quarantined(service.engine, row.id, service.context)


def test_a_stranger_cannot_borrow_the_requesters_address_as_reply_to(service, inbox):
    deliver(inbox, make_mail(), "1")
    service.poll()
    [ticket] = tickets(service)
    deliver(inbox, make_mail("Merci de supprimer mes données.", message_id="<e2@other.example>",
                             From="mallory@other.example", Reply_To=ticket.requester,
                             Subject=f"Re: [#{ticket.ref}]"), "2")
    assert service.poll().counts == {"new_ticket": 1}


def test_a_statut_mail_lists_the_requesters_open_tickets_without_opening_one(service, inbox):
    deliver(inbox, make_mail(message_id="<a@x.example>", Subject="Photos"), "1")
    deliver(inbox, make_mail(message_id="<b@x.example>", Subject="Export PDF"), "2")
    deliver(inbox, make_mail("Statut", message_id="<c@x.example>", Subject="?"), "3")
    deliver(inbox, make_mail("", message_id="<d@x.example>", Subject="statut",
                             From="inconnu@ecole.example"), "4")
    assert service.poll().counts == {"new_ticket": 2, "ignored": 2}
    refs = sorted(t.ref for t in tickets(service))
    entries = {e.rcpt_to: as_message(e.raw) for e in outbox(service) if e.ticket_id is None}
    listing = entries["elodie.martin@ecole-jules-ferry.example"]
    body = listing.get_body(("plain",)).get_content()
    assert all(f"[#{ref}]" in body for ref in refs) and "nouvelle demande" in body
    assert listing["Auto-Submitted"] == "auto-replied"
    stranger = entries["inconnu@ecole.example"].get_body(("plain",)).get_content()
    assert "aucune demande en cours" in stranger
    reasons = [m.outcome_reason for m in incoming(service) if m.outcome == "ignored"]
    assert sorted(reasons) == ["status request answered with 0 open ticket(s)",
                               "status request answered with 2 open ticket(s)"]
