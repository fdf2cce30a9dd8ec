"""Requesters following their ticket: reopen, confirm, rate; timers; SLA escalation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from mailbot.store.models import Rating, Ticket, TicketStatus, utcnow
from tests.helpers import tickets
from tests.lifecycle_helpers import (
    LEAD,
    MARIE,
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

# Nothing in it for the default rules to raise the priority: a « normale » ticket.
CALM_TEXT = "Bonjour,\n\nL'application se ferme quand j'ouvre l'appareil photo.\n\nMerci"
CALM = make_mail(CALM_TEXT, message_id="<calm@ecole-jules-ferry.example>", Subject="Appareil photo")


@pytest.fixture
def service(tmp_path):
    return staff_service(tmp_path)


@pytest.fixture
def post(service):
    return poster(service)


@pytest.fixture
def proposed(service, post):
    """A ticket with a solution proposed by Marie."""
    post(make_mail())
    ref = the_ticket(service).ref
    post(staff_mail("#solution\n\nMettez à jour l'application en 2.2.5.", ref))
    assert the_ticket(service).status == TicketStatus.SOLUTION_PROPOSED
    return the_ticket(service)


def test_solution_mail_asks_to_confirm(service, proposed):
    mail = mail_to(service, REQUESTER)[-1]
    assert mail["Subject"].startswith(f"[#{proposed.ref}] Solution proposée")
    body = text_of(mail)
    assert "Mettez à jour l'application en 2.2.5." in body
    assert "répondez simplement « ça marche »" in body and "7 jours" in body


@pytest.mark.parametrize("answer", ["Ça marche, merci !", "C'est bon, tout est rentré dans "
                                    "l'ordre. Merci beaucoup", "It works now, thanks."])
def test_confirmation_resolves_and_asks_for_a_rating(service, post, proposed, answer):
    assert post(requester_mail(answer, proposed.ref)) == {"appended": 1}
    ticket = the_ticket(service)
    assert ticket.status == TicketStatus.RESOLVED and ticket.resolved_at is not None
    mail = mail_to(service, REQUESTER)[-1]
    assert mail["Subject"].startswith(f"[#{proposed.ref}] Demande résolue")
    assert mail["Auto-Submitted"] == "auto-generated"
    body = text_of(mail)
    assert "de 1 (pas satisfait) à 5 (très satisfait)" in body
    assert f"mailto:support@ecarnet.example?subject=%5B%23{proposed.ref}%5D%20Note%205%2F5" \
           "&body=5" in body
    [change] = [e for e in events(service, ticket, "status") if e.new_status == "résolu"]
    assert change.actor == REQUESTER and change.message_row_id is not None


@pytest.mark.parametrize("answer", ["Ça ne marche pas, toujours bloqué à 45 %.",
                                    "J'ai essayé mais l'erreur revient."])
def test_any_other_answer_reopens(service, post, proposed, answer):
    post(requester_mail(answer, proposed.ref))
    assert the_ticket(service).status == TicketStatus.ANALYSING
    mail = mail_to(service, REQUESTER)[-1]
    assert "de nouveau en\ncours d'analyse" in text_of(mail)
    # Marie hears about it: she is the assignee.
    assert "toujours bloqué" in text_of(mail_to(service, MARIE)[-1]) or "revient" in text_of(
        mail_to(service, MARIE)[-1])


def test_rating_by_reply_and_by_mailto_link(service, post, proposed):
    post(requester_mail("Ça marche !", proposed.ref))
    post(requester_mail("4\n\nRapide et clair, merci.", proposed.ref))
    # The mailto link: no In-Reply-To, the rating in the subject and the body.
    post(make_mail("5", message_id="<rate@ecole-jules-ferry.example>",
                   Subject=f"[#{proposed.ref}] Note 5/5"))
    with Session(service.engine) as session:
        ratings = list(session.exec(select(Rating).order_by(Rating.id)))
    assert [(r.score, r.comment) for r in ratings] == [(4, "Rapide et clair, merci."), (5, "")]
    assert the_ticket(service).status == TicketStatus.RESOLVED  # a rating does not reopen


def test_a_reply_to_a_resolved_ticket_reopens_it(service, post, proposed):
    post(requester_mail("Ça marche", proposed.ref))
    post(requester_mail("En fait le problème est revenu ce matin.", proposed.ref))
    assert the_ticket(service).status == TicketStatus.ANALYSING


def test_timers_resolve_then_close(service, post, proposed):
    now = utcnow()
    assert service.sweep(now + dt.timedelta(days=6)).resolved == []
    assert service.sweep(now + dt.timedelta(days=7, minutes=1)).resolved == [proposed.ref]
    resolved = mail_to(service, REQUESTER)[-1]
    assert "Sans nouvelles de votre part" in text_of(resolved)
    assert "mailto:" in text_of(resolved)
    assert service.sweep(now + dt.timedelta(days=7 + 13)).closed == []
    assert service.sweep(now + dt.timedelta(days=7 + 15)).closed == [proposed.ref]
    assert the_ticket(service).status == TicketStatus.CLOSED
    assert mail_to(service, REQUESTER)[-1]["Subject"].startswith(
        f"[#{proposed.ref}] Demande fermée")
    auto = [e for e in events(service, proposed, "status") if e.actor == "mailbot"
            and e.old_status]
    assert [e.new_status for e in auto] == ["résolu", "fermé"]


def test_a_reply_to_a_closed_ticket_opens_a_new_one(service, post, proposed):
    service.sweep(utcnow() + dt.timedelta(days=30))
    service.sweep(utcnow() + dt.timedelta(days=60))
    assert the_ticket(service).status == TicketStatus.CLOSED
    assert post(requester_mail("Le problème revient.", proposed.ref)) == {"new_ticket": 1}
    assert len(tickets(service)) == 2


def test_sla_breach_escalates_once(service, post):
    post(CALM)
    ticket = the_ticket(service)
    post(staff_mail("#assigner " + MARIE, ticket.ref))  # not an answer: the clock runs
    later = utcnow() + dt.timedelta(hours=25)  # « normale »: first response within 24 h
    assert service.sweep(later).escalated == [ticket.ref]
    assert service.sweep(later + dt.timedelta(hours=1)).escalated == []
    post(requester_mail("Des nouvelles ?", ticket.ref))
    assert service.sweep(later + dt.timedelta(hours=30)).escalated == []  # once, ever
    [warning] = mail_to(service, LEAD)
    assert warning["Subject"] == (f"[#{ticket.ref}] Escalade : objectif de première réponse "
                                  "dépassé (normale)")
    assert "24 h" in text_of(warning) and MARIE in text_of(warning)
    ticket = the_ticket(service)
    assert "escalade" in ticket.tags and ticket.escalated_at is not None
    [event] = events(service, ticket, "escalated")
    assert LEAD in event.detail


def test_an_answered_ticket_is_not_escalated_for_first_response(service, post):
    post(CALM)
    ticket = the_ticket(service)
    post(staff_mail("Nous regardons.", ticket.ref))
    assert service.sweep(utcnow() + dt.timedelta(hours=30)).escalated == []
    # ... but the resolution target (120 h for « normale ») still holds.
    assert service.sweep(utcnow() + dt.timedelta(hours=121)).escalated == [ticket.ref]


def test_escalation_without_an_assignee_goes_to_the_team(service, post):
    post(CALM)
    ticket = the_ticket(service)
    post(staff_mail("#équipe technique", ticket.ref))
    service.sweep(utcnow() + dt.timedelta(hours=25))
    assert len(mail_to(service, TEAM_TECH)) >= 1
    assert "Escalade" in mail_to(service, TEAM_TECH)[-1]["Subject"]


def test_acknowledgement_gives_a_resolution_estimate(service, post):
    post(CALM)
    first = text_of(mail_to(service, REQUESTER)[0])
    assert ("Temps de réponse : notre objectif de résolution\npour ce niveau de priorité est "
            "de 5 jours.") in first
    # With enough resolved history of the same priority and team, the median is used.
    now = utcnow()
    with Session(service.engine) as session:
        category = session.exec(select(Ticket)).first().category
        for i, hours in enumerate((20, 22, 24, 26, 28)):
            session.add(Ticket(ref=f"ECN-0000{i}0", requester="x@y.example",
                               status="résolu", category=category,
                               created_at=now - dt.timedelta(days=3),
                               resolved_at=now - dt.timedelta(days=3, hours=-hours)))
        session.commit()
    post(make_mail(CALM_TEXT, message_id="<calm2@ecole-jules-ferry.example>",
                   Subject="Appareil photo, encore"))
    second = text_of(mail_to(service, REQUESTER)[-1])
    assert "d'après nos dernières demandes de même\npriorité, la résolution prend environ " \
           "24 heures." in second


def test_an_english_ticket_is_followed_in_english(service, post):
    post(make_mail("Hello,\n\nThe app closes every time I open the camera. Could you help "
                   "me?\n\nThanks,\nJane", message_id="<en1@school.example>",
                   From="Jane Doe <jane.doe@school.example>", Subject="Camera crash"))
    ticket = the_ticket(service)
    assert ticket.language == "en"
    post(staff_mail("#solution\n\nPlease update the app to 2.2.5.", ticket.ref))
    proposed = mail_to(service, "jane.doe@school.example")[-1]
    assert proposed["Subject"] == f"[#{ticket.ref}] Solution proposed: Camera crash"
    assert 'simply reply "it works"' in text_of(proposed)
    assert "status: solution proposed" in text_of(proposed)
    post(make_mail("It works, thanks!", message_id="<en2@school.example>",
                   From="jane.doe@school.example", Subject=f"Re: [#{ticket.ref}] Camera crash"))
    resolved = mail_to(service, "jane.doe@school.example")[-1]
    assert resolved["Subject"] == f"[#{ticket.ref}] Request resolved: Camera crash"
    assert "How would you rate our answer" in text_of(resolved)


def test_a_participant_can_add_but_not_rate_confirm_or_reopen(service, post, proposed):
    colleague = "directrice@ecole-jules-ferry.example"
    with Session(service.engine) as session:
        ticket = session.get(Ticket, proposed.id)
        ticket.participants = [colleague]
        session.add(ticket)
        session.commit()
    for i, text in enumerate(("Ça marche, merci !", "5", "Toujours en panne chez nous.")):
        assert post(make_mail(text, message_id=f"<dir{i}@ecole-jules-ferry.example>",
                              From=colleague,
                              Subject=f"Re: [#{proposed.ref}] Solution proposée")) == {
            "appended": 1}
        assert the_ticket(service).status == TicketStatus.SOLUTION_PROPOSED
    with Session(service.engine) as session:
        assert session.exec(select(Rating)).all() == []


def test_a_numbered_list_on_a_resolved_ticket_reopens_it(service, post, proposed):
    post(requester_mail("Ça marche", proposed.ref))
    post(requester_mail("1. J'ai mis à jour\n2. L'erreur revient toujours", proposed.ref))
    assert the_ticket(service).status == TicketStatus.ANALYSING
    with Session(service.engine) as session:
        assert session.exec(select(Rating)).all() == []


def test_two_sweeps_at_once_escalate_once(service, post):
    """The second sweep selected the ticket before the first escalated it: its claim
    finds the condition gone and it sends nothing."""
    from mailbot import sweep as sweep_module

    post(CALM)
    later = utcnow() + dt.timedelta(hours=25)
    with Session(service.engine) as stale_session:
        stale = stale_session.exec(select(Ticket)).one()  # selected, not yet claimed
        assert service.sweep(later).escalated == [stale.ref]
        assert not sweep_module._claim(stale_session, stale,
                                       sweep_module.col(Ticket.escalated_at).is_(None))
    assert len(mail_to(service, LEAD)) + len(mail_to(service, TEAM_TECH)) <= 1


def test_a_ticket_that_cannot_be_handled_does_not_stop_the_sweep(service, post, proposed,
                                                                 monkeypatch):
    post(CALM)
    calm = next(t for t in tickets(service) if t.ref != proposed.ref)
    original = service.context.notifier.follow_up

    def broken_for_proposed(session, ticket, **kw):
        if ticket.ref == proposed.ref:
            raise RuntimeError("template broken")
        return original(session, ticket, **kw)

    monkeypatch.setattr(type(service.context.notifier), "follow_up",
                        lambda self, session, ticket, **kw: broken_for_proposed(
                            session, ticket, **kw))
    report = service.sweep(utcnow() + dt.timedelta(days=8))
    assert report.failed == [proposed.ref] and report.escalated == [calm.ref]
    assert the_ticket(service, proposed.ref).status == TicketStatus.SOLUTION_PROPOSED
