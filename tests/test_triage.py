"""Rule files and FAQ suggestions in the running pipeline (shipped rules/ and rules/faq/)."""

from __future__ import annotations

import logging
import shutil

from sqlmodel import Session
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.rules import default_rules_dir
from mailbot.service import Service
from mailbot.store.models import FaqSuggestion, Message, TicketEvent
from tests import reportmail
from tests.helpers import (
    as_message,
    deliver,
    incoming,
    local_config,
    outbox,
    rows,
    tickets,
    write_config,
)
from tests.mails import make_mail


def ack_text(service: Service) -> str:
    [entry] = outbox(service)
    return as_message(entry.raw).get_body(("plain",)).get_content()


def test_password_mail_gets_the_password_auto_reply_instead_of_the_ack(service, inbox):
    deliver(inbox, make_mail("Bonjour, j'ai oublié mon mot de passe et je ne peux plus "
                             "ouvrir l'application.\nMerci", Subject="Connexion"), "1")
    service.poll()
    [ticket], [message] = tickets(service), incoming(service)
    assert "mot-de-passe" in message.rule_hits
    assert "connexion" in ticket.tags and ticket.category == "technique"
    [entry] = outbox(service)
    ack = as_message(entry.raw)
    assert f"[#{ticket.ref}]" in ack["Subject"] and ack["Auto-Submitted"] == "auto-replied"
    assert "mot de passe" in ack.get_body(("plain",)).get_content().lower()
    assert "Demande reçue" not in ack["Subject"]  # the rule's template replaced the ack


def test_urgent_words_raise_the_priority_but_not_when_negated(service, inbox):
    deliver(inbox, make_mail("Tout est bloqué et l'inspection demain !", Subject="Aide",
                             message_id="<u1@x.example>"), "1")
    deliver(inbox, make_mail("Question pas urgente sur l'export des photos.", Subject="Info",
                             message_id="<u2@x.example>", From="paul@ecole.example"), "2")
    service.poll()
    by_requester = {t.requester: t for t in tickets(service)}
    assert by_requester["elodie.martin@ecole-jules-ferry.example"].priority == "urgente"
    assert by_requester["paul@ecole.example"].priority == "normale"


def test_pedagogical_question_goes_to_the_pedagogical_team(service, inbox):
    deliver(inbox, make_mail("Comment évaluer les compétences de mes élèves dans le livret ?",
                             Subject="Évaluation"), "1")
    service.poll()
    assert tickets(service)[0].category == "pédagogique"


def test_sync_report_gets_faq_suggestions_in_the_ack_and_they_are_recorded(service, inbox):
    deliver(inbox, reportmail.build_report_mail(), "1")
    service.poll()
    [ticket] = tickets(service)
    suggested = [s.article_id for s in rows(service, FaqSuggestion)]
    assert suggested and all(s.ticket_id == ticket.id for s in rows(service, FaqSuggestion))
    assert "synchronisation-bloquee" in suggested
    assert "En attendant, ces articles" in ack_text(service)
    stats = CliRunner().invoke(app, ["faq", "stats", "--config", str(write_config(service))])
    assert "synchronisation-bloquee" in stats.output


def test_off_topic_mail_gets_no_suggestion(service, inbox):
    deliver(inbox, make_mail("Bonjour, la cantine sera-t-elle ouverte mercredi ?",
                             Subject="Cantine"), "1")
    service.poll()
    assert rows(service, FaqSuggestion) == []
    assert "En attendant, ces articles" not in ack_text(service)


def own_rules_service(tmp_path) -> Service:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("faq"))
    config = local_config(tmp_path)
    config.rules.dir = rules
    return Service.from_config(config)


IGNORE_NEWSLETTERS = '''
[[rule]]
name = "ignorer-lettre-info"
description = "La lettre d'information de l'académie ne demande pas de réponse"
when.subject_words = ["lettre d'information"]
then.ignore = "lettre d'information, rien à traiter"
'''


def test_rules_reload_when_files_change_and_a_broken_file_keeps_the_old_set(tmp_path,
                                                                            caplog):
    service = own_rules_service(tmp_path)
    inbox = service.config.source.maildir.path
    (service.config.rules.dir / "05-lettres.toml").write_text(IGNORE_NEWSLETTERS,
                                                             encoding="utf-8")
    deliver(inbox, make_mail("Voici les nouvelles.", Subject="Lettre d'information n°3",
                             message_id="<n1@x.example>"), "1")
    assert service.poll().counts == {"ignored": 1}
    [ignored] = incoming(service)
    assert ignored.outcome_reason == ("rule ignorer-lettre-info: "
                                      "lettre d'information, rien à traiter")
    assert outbox(service) == []

    (service.config.rules.dir / "06-casse.toml").write_text(
        "[[rule]]\nname = \"casse\"\ndescription = \"x\"\nwhen.tex_words = [\"a\"]\n",
        encoding="utf-8")
    deliver(inbox, make_mail("Encore.", Subject="Lettre d'information n°4",
                             message_id="<n2@x.example>"), "2")
    with caplog.at_level(logging.ERROR, logger="mailbot.rules"):
        assert service.poll().counts == {"ignored": 1}  # the previous rules still apply
    assert "06-casse.toml" in caplog.text


def test_a_broken_rule_file_at_start_is_a_clear_configuration_error(tmp_path):
    service = own_rules_service(tmp_path)
    (service.config.rules.dir / "99-casse.toml").write_text(
        "[[rule]]\nname = \"casse\"\ndescription = \"x\"\nwhen.words = [\"a\"]\n"
        "then.priorite = \"urgente\"\n", encoding="utf-8")
    path = write_config(service)
    result = CliRunner().invoke(app, ["poll", "--once", "--config", str(path)])
    assert result.exit_code == 2
    assert "99-casse.toml:5" in result.output and "priorite" in result.output
    # reading tickets needs no rules: it still works while the file is being fixed
    assert CliRunner().invoke(app, ["tickets", "list", "--config", str(path)]).exit_code == 0


def test_rule_status_change_is_recorded_as_an_event(tmp_path):
    service = own_rules_service(tmp_path)
    (service.config.rules.dir / "07-statut.toml").write_text(
        "[[rule]]\nname = \"analyse-rapport\"\ndescription = \"Un rapport part en analyse\"\n"
        "when.report = true\nthen.status = \"en cours d'analyse\"\n", encoding="utf-8")
    deliver(service.config.source.maildir.path, reportmail.build_report_mail(), "1")
    service.poll()
    [ticket] = tickets(service)
    assert ticket.status == "en cours d'analyse"
    changes = [(e.old_status, e.new_status) for e in rows(service, TicketEvent)
               if e.kind == "status"]
    assert changes == [(None, "nouvelle demande"),
                       ("nouvelle demande", "en cours d'analyse")]


def test_faq_draft_from_a_ticket_answer(service, inbox):
    deliver(inbox, make_mail("Comment exporter le carnet en PDF ?", Subject="Export PDF"), "1")
    service.poll()
    [ticket] = tickets(service)
    path = write_config(service)
    kb = service.config.source.maildir.path.parent / "kb"
    kb.mkdir()
    result = CliRunner().invoke(app, ["faq", "draft", ticket.ref, "--kb", str(kb),
                                      "--config", str(path)])
    assert result.exit_code == 1 and "no answer" in result.output  # only the automatic ack
    with Session(service.engine) as session:
        session.add(Message(ticket_id=ticket.id, direction="out", kind="staff_reply",
                            message_id="<answer@mailbot.ecarnet.example>", raw=b"",
                            body_text="Ouvrez le carnet, puis ⋮ > Exporter en PDF."))
        session.commit()
    result = CliRunner().invoke(app, ["faq", "draft", ticket.ref, "--kb", str(kb),
                                      "--config", str(path)])
    assert result.exit_code == 0, result.output
    [draft] = (kb / "drafts").glob("*.md")
    text = draft.read_text(encoding="utf-8")
    assert "Exporter en PDF" in text and "draft" in text


def test_a_broken_auto_reply_template_falls_back_to_the_acknowledgement(tmp_path, caplog):
    service = own_rules_service(tmp_path)
    templates = tmp_path / "templates"
    shutil.copytree(service.context.renderer.templates_dir, templates)
    (templates / "mot_de_passe.fr.txt.j2").write_text("Bonjour {{ prenom }}", encoding="utf-8")
    service.context.renderer.__init__(templates)  # the file broke after the rules loaded
    deliver(service.config.source.maildir.path,
            make_mail("J'ai oublié mon mot de passe.", Subject="Connexion"), "1")
    with caplog.at_level(logging.ERROR):
        assert service.poll().counts == {"new_ticket": 1}
    assert len(tickets(service)) == 1
    assert "Demande reçue" in as_message(outbox(service)[0].raw)["Subject"]
    assert "mot_de_passe" in caplog.text


def test_a_reply_does_not_move_the_ticket_to_another_team(service, inbox):
    deliver(inbox, make_mail("Comment évaluer les compétences dans le livret ?",
                             Subject="Évaluation"), "1")
    service.poll()
    [ticket] = tickets(service)
    assert ticket.category == "pédagogique"
    deliver(inbox, make_mail("Merci ! Et pour l'export en PDF du carnet, c'est tout bloqué.",
                             message_id="<r9@x.example>", Subject=f"Re: [#{ticket.ref}]"), "2")
    assert service.poll().counts == {"appended": 1}
    [ticket] = tickets(service)
    assert ticket.category == "pédagogique"  # the staff's team stays
    assert ticket.priority == "urgente"      # but urgency may still rise


def test_faq_suggestions_for_topics_without_a_dedicated_rule(service, inbox):
    deliver(inbox, make_mail("Bonjour, comment ajouter un nouvel élève arrivé en cours "
                             "d'année dans ma classe ?", Subject="Nouvel élève"), "1")
    service.poll()
    assert "ajouter-eleves" in [s.article_id for s in rows(service, FaqSuggestion)]
