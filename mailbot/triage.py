"""The act step's decisions: rule files and FAQ suggestions applied to a ticket.

:mod:`mailbot.rules` says what should happen (priority, team, tags, status,
auto-reply, FAQ, ignore) and :mod:`mailbot.faq` which articles fit; this
module applies that to the ticket inside the intake transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from mailbot.faq import excerpt
from mailbot.model import ParsedMail
from mailbot.rules import Decision
from mailbot.rules.facts import facts_from
from mailbot.store.models import FaqSuggestion, Ticket, TicketEvent, utcnow

if TYPE_CHECKING:
    from mailbot.faq import KnowledgeBase
    from mailbot.reports import Report
    from mailbot.rules import RuleWatcher

TEAM_LABEL = {"technique": "technique", "pedagogique": "pédagogique"}
MAX_SUGGESTIONS = 3


def faq_question(parsed: ParsedMail, report: Report | None) -> str:
    """What to look up in the FAQ: the person's own words.

    For a report that is what the teacher typed in the app's form and the
    main error code, not the label block around it (whose generic words,
    « Mémoire », « Réseau »…, would pull in unrelated articles).
    """
    if report is None:
        return f"{parsed.subject}\n{parsed.reply_text}"
    context = report.user_context
    words = [parsed.subject.partition(":")[2] or parsed.subject,
             context.description if context else None, context.actions if context else None,
             report.main_error_code]
    return "\n".join(w for w in words if w)


def decide(rules: RuleWatcher | None, parsed: ParsedMail, kind: str, language: str,
           report: Report | None) -> Decision | None:
    """What the rule files decide for this message (None without rules)."""
    if rules is None:
        return None
    facts = facts_from(parsed, kind, language, report.to_json() if report else None,
                       dt.datetime.now(dt.UTC))
    return rules.current().evaluate(facts)


def rule_names(decision: Decision | None) -> list[str]:
    """Names of the rules that fired, in order."""
    return [hit.rule for hit in decision.matched] if decision else []


PRIORITY_ORDER = ("normale", "importante", "urgente")


def apply_decision(session: Session, ticket: Ticket, decision: Decision | None,
                   new_ticket: bool = True) -> None:
    """Priority, team, tags and status from the rules onto *ticket* (not committed).

    On a later message of an existing ticket, rules may add tags and raise the
    priority, nothing more: the team and the status belong to the staff once
    the ticket exists, and a reply's subject words (« Re: Export ») must not
    move it again.
    """
    if decision is None:
        return
    if decision.priority and (new_ticket or _rank(decision.priority) > _rank(ticket.priority)):
        ticket.priority = decision.priority
    if decision.team and new_ticket:
        ticket.category = TEAM_LABEL.get(decision.team, decision.team)
    if decision.tags:
        ticket.tags = sorted({*ticket.tags, *decision.tags})
    if decision.status and decision.status != ticket.status and new_ticket:
        assert ticket.id is not None
        session.add(TicketEvent(ticket_id=ticket.id, kind="status", old_status=ticket.status,
                                new_status=decision.status,
                                detail="rule " + ", ".join(rule_names(decision))))
        ticket.status = decision.status
    ticket.updated_at = utcnow()
    session.add(ticket)


def _rank(priority: str) -> int:
    return PRIORITY_ORDER.index(priority) if priority in PRIORITY_ORDER else 0


def faq_suggestions(session: Session, ticket: Ticket, parsed: ParsedMail,
                    decision: Decision | None, kb: KnowledgeBase | None,
                    report: Report | None, base_url: str | None) -> list[dict[str, Any]]:
    """Up to three articles for the acknowledgement, recorded on the ticket.

    Only when a rule asked for them, and only those the knowledge base is
    confident about (explicitly named articles always qualify).
    """
    if kb is None or decision is None or not (decision.suggest_faq or decision.faq_articles):
        return []
    chosen: dict[str, tuple[Any, float, str]] = {}
    for article_id in decision.faq_articles:
        article = kb.article(article_id)
        if article is not None:
            chosen[article.id] = (article, 1.0, excerpt(article.body))
    if decision.suggest_faq:
        for found in kb.suggest(faq_question(parsed, report),
                                app_version=report.app_version if report else None,
                                language=ticket.language, limit=MAX_SUGGESTIONS):
            chosen.setdefault(found.article.id, (found.article, found.score, found.excerpt))
    suggestions = []
    assert ticket.id is not None
    for article, score, summary in list(chosen.values())[:MAX_SUGGESTIONS]:
        session.add(FaqSuggestion(ticket_id=ticket.id, article_id=article.id, score=score))
        suggestions.append({"title": article.title, "excerpt": summary,
                            "url": f"{base_url}{article.id}" if base_url else None})
    return suggestions
