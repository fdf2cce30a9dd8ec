"""Reading a requester's short answer: ratings and « ça marche »."""

import datetime as dt

import pytest

from mailbot.estimates import Estimate, describe
from mailbot.lifecycle import requester_reply_effect
from mailbot.replies import is_confirmation, rating_of


@pytest.mark.parametrize(("text", "score", "comment"), [
    ("5", 5, ""), ("4/5", 4, ""), ("Note : 3", 3, ""), ("3 sur 5 - un peu lent", 3, "un peu lent"),
    ("5 étoiles, merci !", 5, "merci !"), ("2.", 2, ""), ("1 !\n\nPersonne ne m'a aidé.", 1,
                                                          "Personne ne m'a aidé."),
    ("5\n\nCommentaire (facultatif) : parfait", 5, "parfait"), ("Rating: 4 stars", 4, ""),
    ("4 - très bien, merci", 4, "très bien, merci"), ("5/5, parfait", 5, "parfait"),
])
def test_ratings(text, score, comment):
    answer = rating_of(text)
    assert answer is not None and (answer.score, answer.comment) == (score, comment)


@pytest.mark.parametrize("text", ["10", "0", "6", "2.5", "5 minutes après, ça plante encore",
                                  "ça marche", "", "Merci",
                                  "1. J'ai mis à jour\n2. L'erreur revient toujours",
                                  "5-6 fois par jour ça plante encore", "3, 4 et 5 ne marchent pas",
                                  "2 élèves n'apparaissent pas"])
def test_not_ratings(text):
    assert rating_of(text) is None


def test_an_empty_body_falls_back_to_the_subject_of_the_mailto_link():
    assert rating_of("", "Re: [#ECN-4F7K2Q] Note 4/5").score == 4
    assert rating_of("", "Re: [#ECN-4F7K2Q] Demande résolue") is None


@pytest.mark.parametrize("text", ["ça marche, merci", "Ça fonctionne !", "C'est bon merci",
                                  "Problème réglé, merci beaucoup.", "It works, thanks!",
                                  "That did it."])
def test_confirmations(text):
    assert is_confirmation(text)


@pytest.mark.parametrize("text", ["Ça ne marche pas", "ça marche toujours pas",
                                  "Ça marche mais les vidéos restent bloquées",
                                  "It still doesn't work", "Merci", "ça marche " + "mot " * 40])
def test_not_confirmations(text):
    assert not is_confirmation(text)


@pytest.mark.parametrize(("status", "text", "new_status", "rated"), [
    ("solution proposée", "ça marche", "résolu", False),
    ("solution proposée", "non, toujours bloqué", "en cours d'analyse", False),
    ("solution proposée", "5", "en cours d'analyse", False),  # no rating asked yet
    ("résolu", "4", None, True),
    ("résolu", "le problème revient", "en cours d'analyse", False),
    ("fermé", "5", None, True),
    ("en cours d'analyse", "ça marche", None, False),  # no solution was proposed
    ("nouvelle demande", "une précision", None, False),
])
def test_requester_reply_effect(status, text, new_status, rated):
    effect = requester_reply_effect(status, text)
    assert effect.new_status == new_status
    assert (effect.rating is not None) == rated


@pytest.mark.parametrize(("hours", "basis", "fr", "en"), [
    (0.5, "history", "moins d'une heure", "less than an hour"),
    (5, "history", "environ 5 heures", "about 5 hours"),
    (24, "target", "24 heures", "24 hours"),
    (120, "target", "5 jours", "5 days"),
    (50, "history", "environ 2 jours", "about 2 days"),
])
def test_estimates_read_like_a_person_would_say_them(hours, basis, fr, en):
    estimate = Estimate(dt.timedelta(hours=hours), basis)
    assert (describe(estimate, "fr"), describe(estimate, "en")) == (fr, en)


@pytest.mark.parametrize(("text", "thanks"), [
    ("Merci beaucoup !", True), ("Merci beaucoup, 5/5", True), ("Thanks a lot", True),
    ("Merci, mais ça ne marche toujours pas", False), ("Merci, une autre question ?", False),
    ("Le problème revient depuis ce matin", False),
])
def test_thanks(text, thanks):
    from mailbot.replies import is_thanks

    assert is_thanks(text) is thanks


@pytest.mark.parametrize("text", ["Ça marche, merci !", "Merci beaucoup, 5/5"])
def test_thanking_a_resolved_ticket_does_not_reopen_it(text):
    assert requester_reply_effect("résolu", text).new_status is None
