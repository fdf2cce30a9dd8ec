"""Rule actions and how the actions of several rules merge into one Decision."""

from __future__ import annotations

from mailbot.rules import Decision
from mailbot.rules.decision import STATUSES
from mailbot.store.models import TicketStatus
from tests.test_rules_helpers import facts, rule, ruleset

URGENT = 'when.words = "urgent"'


def decide(tmp_path, *files, **changes) -> Decision:
    return ruleset(tmp_path, *files).evaluate(facts(**changes))


def test_every_action_lands_in_the_decision(tmp_path):
    decision = decide(tmp_path, rule(URGENT, """then.priority = "urgente"
then.team = "pédagogique"
then.tags = ["urgent", "a-rappeler"]
then.status = "en cours d'analyse"
then.auto_reply = "mot_de_passe"
then.suggest_faq = true"""), text="C'est urgent")
    assert (decision.priority, decision.team, decision.status) == (
        "urgente", "pedagogique", "en cours d'analyse")
    assert decision.tags == ["urgent", "a-rappeler"]
    assert decision.auto_replies == ["mot_de_passe"] and decision.suggest_faq
    assert decision.faq_articles == [] and decision.ignore_reason is None
    assert [(h.rule, h.file) for h in decision.matched] == [("r", "10.toml")]
    assert [a.action for a in decision.actions] == [
        "priority", "team", "tags", "status", "auto_reply", "suggest_faq"]


def test_explicit_faq_articles_do_not_turn_on_ranked_suggestions(tmp_path):
    decision = decide(tmp_path, rule(URGENT, 'then.suggest_faq = ["mot-de-passe-oublie"]'),
                      text="urgent")
    assert decision.faq_articles == ["mot-de-passe-oublie"] and not decision.suggest_faq


def test_later_rules_override_scalars_and_lists_accumulate(tmp_path):
    first = rule(URGENT, 'then.priority = "urgente"\nthen.team = "technique"\n'
                 'then.tags = ["a", "b"]\nthen.auto_reply = "x"', name="first")
    second = rule(URGENT, 'then.priority = "importante"\nthen.team = "technique"\n'
                  'then.tags = ["b", "c"]\nthen.auto_reply = "x"\nthen.suggest_faq = ["f1"]',
                  name="second")
    third = rule(URGENT, 'then.suggest_faq = ["f2", "f1"]\nthen.team = "pedagogique"',
                 name="third")
    decision = decide(tmp_path, first, second + third, text="urgent")
    assert decision.priority == "importante" and decision.team == "pedagogique"
    assert decision.tags == ["a", "b", "c"] and decision.auto_replies == ["x"]
    assert decision.faq_articles == ["f1", "f2"]
    overridden = {(a.rule, a.action): a.overridden_by for a in decision.actions}
    assert overridden[("first", "priority")] == "second"
    assert overridden[("second", "priority")] is None
    # The same value again is no override; both setters are overridden by a new one.
    assert overridden[("first", "team")] == overridden[("second", "team")] == "third"


def test_stop_skips_later_rules_and_says_so(tmp_path):
    decision = decide(tmp_path, rule(URGENT, 'then.tags = ["a"]\nthen.stop = true', name="a")
                      + rule(URGENT, 'then.priority = "urgente"', name="b"), text="urgent")
    assert [h.rule for h in decision.matched] == ["a"] and decision.priority is None
    assert decision.stopped_by == "a"
    assert (decision.trace[1].outcome, decision.trace[1].detail) == (
        "skipped", "after 'stop' in rule a")


def test_a_rule_that_does_not_fire_does_not_stop(tmp_path):
    decision = decide(tmp_path, rule('when.words = "jamais"', "then.stop = true", name="a")
                      + rule(URGENT, 'then.tags = ["b"]', name="b"), text="urgent")
    assert decision.tags == ["b"] and decision.stopped_by is None


def test_ignore_sets_the_reason_and_stops(tmp_path):
    decision = decide(tmp_path, rule('when.kind = "list"', 'then.ignore = "lettre d\'information"',
                                     name="liste")
                      + rule('when.kind = "list"', 'then.tags = ["x"]', name="after"), kind="list")
    assert decision.ignore_reason == "lettre d'information" and decision.tags == []
    assert decision.trace[1].outcome == "skipped"


def test_disabled_rules_are_traced_not_run(tmp_path):
    decision = decide(tmp_path, rule(URGENT, 'then.tags = ["x"]\nenabled = false'),
                      text="urgent")
    assert decision.matched == [] and decision.trace[0].outcome == "disabled"


def test_every_rule_has_one_trace_line_in_order(tmp_path):
    texts = [rule(URGENT, name=f"r{i}") for i in range(3)]
    decision = decide(tmp_path, *texts, text="rien")
    assert [(t.rule, t.file, t.outcome) for t in decision.trace] == [
        ("r0", "10.toml", "no match"), ("r1", "11.toml", "no match"),
        ("r2", "12.toml", "no match")]
    data = decision.to_json()
    assert data.keys() == {"matched", "actions", "trace"}  # what `rules test --json` prints
    assert data["trace"][0] == {"rule": "r0", "file": "10.toml", "outcome": "no match",
                                "detail": "words: none of « urgent » in the subject or the text"}


def test_statuses_are_the_ticket_statuses():
    assert tuple(s.value for s in TicketStatus) == STATUSES
