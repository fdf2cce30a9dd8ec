"""Staff acting by mail: relayed answers, commands, authentication, help, no hijacking."""

from __future__ import annotations

import pytest

from mailbot.store.models import Outcome, TicketStatus
from tests.helpers import incoming, tickets
from tests.lifecycle_helpers import (
    FAIL,
    MARIE,
    PASS,
    PAUL,
    REQUESTER,
    TEAM_TECH,
    events,
    mail_to,
    poster,
    requester_mail,
    staff_mail,
    staff_service,
    text_of,
    the_ticket,
)
from tests.mails import make_mail


@pytest.fixture
def service(tmp_path):
    return staff_service(tmp_path)


@pytest.fixture
def post(service):
    return poster(service)


@pytest.fixture
def ticket(service, post):
    assert post(make_mail()) == {"new_ticket": 1}
    return the_ticket(service)


def ack_id(service) -> str:
    return str(mail_to(service, REQUESTER)[0]["Message-ID"])


STAFF_ANSWER = """#statut en cours

Bonjour Élodie,

Nous regardons la synchronisation de votre classe.

--\x20
Marie Durand
Assistance e-carnet

Le 23/11/2026 à 08:13, Support e-carnet a écrit :
> Nous avons bien reçu votre message.
"""


def test_staff_answer_is_relayed_with_signature_without_quotes_and_assigns(service, post,
                                                                            ticket):
    assert post(staff_mail(STAFF_ANSWER, ticket.ref, in_reply_to=ack_id(service))) == {
        "appended": 1}
    ticket = the_ticket(service)
    assert ticket.status == TicketStatus.ANALYSING
    assert ticket.assignee == MARIE and ticket.first_response_at is not None

    relayed = mail_to(service, REQUESTER)[-1]
    body = text_of(relayed)
    assert relayed["Subject"].startswith(f"[#{ticket.ref}] Demande en cours d'analyse")
    assert relayed["From"].addresses[0].addr_spec == "support@ecarnet.example"
    assert "Nous regardons la synchronisation de votre classe." in body
    assert "Marie Durand\nAssistance e-carnet" in body  # the signature is kept
    assert "#statut" not in body and "> Nous avons bien reçu" not in body
    assert "Auto-Submitted" not in relayed  # a person's words, not an automatic answer
    assert relayed["In-Reply-To"] and relayed["References"]

    [status_change] = [e for e in events(service, ticket, "status") if e.actor == MARIE]
    assert status_change.new_status == TicketStatus.ANALYSING
    assert status_change.message_row_id is not None


def test_a_plain_staff_answer_takes_a_new_ticket_in_hand(service, post, ticket):
    post(staff_mail("Pouvez-vous nous dire quelle version est installée ?", ticket.ref))
    ticket = the_ticket(service)
    assert ticket.status == TicketStatus.ANALYSING and ticket.assignee == MARIE
    assert "quelle version est installée" in text_of(mail_to(service, REQUESTER)[-1])


def test_field_commands_and_an_internal_note_are_never_sent(service, post, ticket):
    before = len(mail_to(service, REQUESTER))
    body = (f"#priorité importante\n#équipe pédagogique\n#assigner Paul Leroy <{PAUL}>\n"
            "#note la directrice a appelé, elle attend un retour aujourd'hui\n\n"
            "Détail interne : voir aussi l'incident de la semaine dernière.\n")
    assert post(staff_mail(body, ticket.ref)) == {"appended": 1}
    ticket = the_ticket(service)
    assert (ticket.priority, ticket.category, ticket.assignee) == ("importante",
                                                                   "pédagogique", PAUL)
    assert ticket.status == TicketStatus.NEW
    assert len(mail_to(service, REQUESTER)) == before  # nothing went to the requester
    [note] = events(service, ticket, "note")
    assert "la directrice a appelé" in note.detail and "incident de la semaine" in note.detail
    assert note.actor == MARIE
    assert {e.kind for e in events(service, ticket)} >= {"priority", "team", "assign", "note"}


def test_english_commands(service, post, ticket):
    post(staff_mail("#status in-progress\n#priority urgent\n\nWe are on it.", ticket.ref))
    ticket = the_ticket(service)
    assert (ticket.status, ticket.priority) == (TicketStatus.ANALYSING, "urgente")


def test_unknown_command_gets_the_help_and_changes_nothing(service, post, ticket):
    before = len(mail_to(service, REQUESTER))
    assert post(staff_mail("#fini\n#priorité urgente\n\nC'est réglé.", ticket.ref)) == {
        "ignored": 1}
    after = the_ticket(service)
    assert (after.status, after.priority, after.assignee) == (ticket.status, ticket.priority,
                                                              None)
    assert len(mail_to(service, REQUESTER)) == before
    [help_reply] = mail_to(service, MARIE)
    body = " ".join(text_of(help_reply).split())
    assert "#fini" in body and "rien n'a été modifié" in body
    assert "#statut" in body and "#fusionner" in body  # the valid commands are listed
    assert help_reply["Auto-Submitted"] == "auto-replied"


def test_assigning_someone_who_is_not_staff_is_refused(service, post, ticket):
    post(staff_mail("#assigner inconnu@example.org", ticket.ref))
    assert the_ticket(service).assignee is None
    assert "inconnu@example.org" in text_of(mail_to(service, MARIE)[-1])


@pytest.mark.parametrize("auth", [FAIL, None, "mx.evil.example; dkim=pass "
                                  "header.d=ecarnet.example; spf=pass "
                                  "smtp.mailfrom=marie.durand@ecarnet.example"])
def test_forged_staff_mail_changes_nothing_and_is_logged(service, post, ticket, auth, caplog):
    before = len(mail_to(service, REQUESTER))
    post(staff_mail("#résolu\n#priorité urgente\n\nProblème réglé.", ticket.ref, auth=auth))
    after = the_ticket(service, ticket.ref)
    assert (after.status, after.priority, after.assignee) == (TicketStatus.NEW, ticket.priority,
                                                              None)
    assert len(mail_to(service, REQUESTER)) == before  # nothing relayed
    [attempt] = events(service, after, "staff_auth_failed")
    assert MARIE in attempt.detail
    assert "not authenticated" in caplog.text
    forged = next(m for m in incoming(service) if m.from_addr == MARIE)
    assert forged.ticket_id != ticket.id  # handled as an outsider's mail: a ticket of its own
    assert forged.outcome == Outcome.NEW_TICKET


def test_outsider_quoting_a_tracking_number_gets_a_new_ticket_and_both_are_logged(
        service, post, ticket):
    outsider = make_mail("Fermez ce ticket, merci.", message_id="<o1@ailleurs.example>",
                         From="inconnu@ailleurs.example",
                         Subject=f"Re: [#{ticket.ref}] Les photos")
    assert post(outsider) == {"new_ticket": 1}
    theirs = next(t for t in tickets(service) if t.requester == "inconnu@ailleurs.example")
    assert theirs.ref != ticket.ref
    [on_target] = events(service, ticket, "write_refused")
    [on_new] = events(service, theirs, "write_refused")
    assert theirs.ref in on_target.detail and ticket.ref in on_new.detail
    assert the_ticket(service, ticket.ref).status == TicketStatus.NEW


def test_requester_reply_reaches_the_assignee(service, post, ticket):
    post(staff_mail("#assigner " + MARIE, ticket.ref))
    post(requester_mail("Voici une capture d'écran.", ticket.ref))
    [copy] = mail_to(service, MARIE)
    assert copy["Subject"].startswith(f"[#{ticket.ref}] Nouveau message")
    assert "Voici une capture d'écran." in text_of(copy)
    assert REQUESTER in text_of(copy)


def test_new_ticket_of_a_team_is_copied_to_the_team_address(service, post):
    post(make_mail("Bonjour,\n\nComment exporter le carnet d'un élève en PDF ?\n\nMerci",
                   message_id="<t1@x.example>", Subject="Export PDF"))
    ticket = the_ticket(service)
    assert ticket.category == "technique"  # the default rules put PDF export there
    [copy] = mail_to(service, TEAM_TECH)
    assert copy["Subject"] == f"[#{ticket.ref}] Nouvelle demande : Export PDF"
    assert "exporter le carnet d'un élève en PDF" in text_of(copy)
    assert copy["Auto-Submitted"] == "auto-generated"


def test_merge_moves_messages_and_closes_the_duplicate(service, post, ticket):
    post(make_mail("Toujours bloqué à 45 %.", message_id="<dup@ecole-jules-ferry.example>",
                   Subject="Synchronisation toujours bloquée"))
    duplicate = next(t for t in tickets(service) if t.ref != ticket.ref)
    post(staff_mail(f"#fusionner {ticket.ref}", duplicate.ref))
    duplicate = the_ticket(service, duplicate.ref)
    assert duplicate.status == TicketStatus.CLOSED and duplicate.merged_into == ticket.ref
    assert {m.ticket_id for m in incoming(service) if m.from_addr == REQUESTER} == {ticket.id}
    notice = mail_to(service, REQUESTER)[-1]
    assert duplicate.ref in notice["Subject"] and ticket.ref in text_of(notice)
    # A later reply to the duplicate lands on the ticket it was merged into.
    post(requester_mail("Une précision.", duplicate.ref))
    assert incoming(service)[-1].ticket_id == ticket.id


def test_a_signature_alone_is_not_an_answer(service, post, ticket):
    before = len(mail_to(service, REQUESTER))
    post(staff_mail("#priorité importante\n\n-- \nMarie Durand\nAssistance e-carnet",
                    ticket.ref))
    after = the_ticket(service)
    assert after.priority == "importante"
    assert (after.status, after.assignee, after.first_response_at) == (TicketStatus.NEW, None,
                                                                       None)
    assert len(mail_to(service, REQUESTER)) == before


def test_a_solution_without_text_is_refused(service, post, ticket):
    post(staff_mail("#solution\n#note voir la doc", ticket.ref))
    assert the_ticket(service).status == TicketStatus.NEW
    assert "#solution: write the solution" in text_of(mail_to(service, MARIE)[-1])


def test_reply_to_all_is_not_relayed_twice_but_counts_as_an_answer(service, post, ticket):
    before = len(mail_to(service, REQUESTER))
    post(make_mail("Bonjour, essayez de redémarrer l'iPad.", message_id="<all@ecarnet.example>",
                   From=f"Marie Durand <{MARIE}>", To=REQUESTER, Cc="support@ecarnet.example",
                   Subject=f"Re: [#{ticket.ref}] Les photos",
                   Authentication_Results=PASS))
    after = the_ticket(service)
    assert len(mail_to(service, REQUESTER)) == before  # she already has it
    assert after.assignee == MARIE and after.first_response_at is not None
    assert after.status == TicketStatus.ANALYSING
    [withheld] = events(service, after, "relay_withheld")
    assert "reply to all" in withheld.detail


def test_a_staff_vacation_reply_is_not_relayed(service, post, ticket):
    before = len(mail_to(service, REQUESTER))
    vacation = staff_mail("Je suis absente jusqu'au 2 décembre.", ticket.ref)
    vacation = vacation.replace(b"Subject: Re: [#", b"Subject: R\xc3\xa9ponse automatique : [#")
    post(vacation)
    assert len(mail_to(service, REQUESTER)) == before
    assert the_ticket(service).first_response_at is None


def test_robots_on_both_sides_stop(service, post, ticket):
    """A requester robot and a staff robot, neither setting any header: bounded."""
    post(staff_mail("#assigner " + MARIE, ticket.ref))
    for i in range(12):
        post(requester_mail(f"Je suis absente ({i}).", ticket.ref))
        post(staff_mail(f"Absente ({i}).", ticket.ref).replace(
            b"Subject: Re: [#", b"Subject: Out of office: Re: [#"))
    assert len(mail_to(service, MARIE)) <= 5  # team copies: the hourly limit
    assert len(mail_to(service, REQUESTER)) <= 2  # the acknowledgement, no relayed robot


def test_a_note_never_reaches_the_logs(service, post, ticket, caplog):
    post(staff_mail("#note la mère de l'élève a appelé au 06 12 34 56 78", ticket.ref))
    assert "06 12 34 56 78" not in caplog.text
    assert all("06 12" not in m.outcome_reason for m in incoming(service))
    [note] = events(service, the_ticket(service), "note")
    assert "06 12 34 56 78" in note.detail


def test_a_requester_reply_to_naming_us_does_not_swallow_the_answers(service, post):
    post(make_mail(message_id="<rt@ecole-jules-ferry.example>",
                   Reply_To="support@ecarnet.example"))
    ticket = the_ticket(service)
    post(staff_mail("Pouvez-vous redémarrer l'application ?", ticket.ref))
    assert "redémarrer l'application" in text_of(mail_to(service, REQUESTER)[-1])
    assert mail_to(service, "support@ecarnet.example") == []


def test_staff_writing_about_their_own_request_is_a_requester(service, post):
    post(make_mail("Mon iPad de test ne synchronise plus.", message_id="<own@ecarnet.example>",
                   From=f"Marie Durand <{MARIE}>", Subject="Synchro iPad de test",
                   Authentication_Results=PASS))
    ticket = the_ticket(service)
    assert ticket.requester == MARIE
    post(staff_mail("Précision : c'est l'iPad n° 3.", ticket.ref))
    after = the_ticket(service)
    assert after.assignee is None and after.first_response_at is None
    assert incoming(service)[-1].outcome == Outcome.APPENDED
    assert all("Précision" not in text_of(m) for m in mail_to(service, MARIE)
               if "vous répond" in text_of(m))


def test_a_mail_without_from_cannot_act_for_the_requester(service, post, ticket):
    """Reply-To is anyone's to write: a mail with no From address taking it as the sender
    can neither write into the ticket by its tracking number nor change it."""
    raw = make_mail("ça marche, merci", message_id="<nofrom@x.example>",
                    From="Service informatique", Reply_To=REQUESTER,
                    Subject=f"Re: [#{ticket.ref}] Les photos")
    post(raw)
    assert the_ticket(service, ticket.ref).status == TicketStatus.NEW
    row = incoming(service)[-1]
    assert row.ticket_id != ticket.id
