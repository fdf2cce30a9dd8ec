"""Wiring: build the engine, source, transport and context from a Config.

The CLI and the scheduler call these; nothing below this module knows
about either.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from contextlib import closing
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session

from mailbot.config import Config
from mailbot.delivery import FlushReport, flush_outbox
from mailbot.faq import KnowledgeBase, default_faq_dir
from mailbot.intake import IntakeContext
from mailbot.poller import PollReport, poll_once
from mailbot.privacy import load_keys
from mailbot.render import Renderer
from mailbot.reports import ReportSettings
from mailbot.rules import RuleError, RuleWatcher, default_rules_dir
from mailbot.send import Transport, make_transport
from mailbot.sources import open_source
from mailbot.staffmail import StaffDirectory
from mailbot.store.db import make_engine
from mailbot.store.models import utcnow
from mailbot.sweep import SweepReport, sweep

log = logging.getLogger("mailbot")


@dataclass
class Service:
    """Everything a poll or a flush needs, built once per process."""

    config: Config
    engine: Engine
    context: IntakeContext
    transport: Transport
    stop_requested: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_config(cls, config: Config) -> Service:
        """Open the database (creating tables), load the keys, rules and FAQ, prepare
        templates and transport. An invalid rule file at start is a configuration
        error (raised); later, while running, it is logged and the last good
        rules stay active."""
        renderer = Renderer(config.templates_dir)
        return cls(
            config=config,
            engine=make_engine(config.database.url),
            context=IntakeContext(
                identity_config=config.identity,
                renderer=renderer,
                keys=load_keys(config.privacy.keys_file),
                report_settings=ReportSettings(**config.reports.model_dump()),
                rules=RuleWatcher(config.rules.dir or default_rules_dir(),
                                  renderer.templates_dir, on_error=_log_rule_error),
                faq=KnowledgeBase.load(config.faq.dir or default_faq_dir()),
                faq_base_url=config.faq.base_url,
                loops_config=config.loops,
                max_message_bytes=config.limits.max_message_bytes,
                limits=config.limits,
                staff=StaffDirectory.from_config(config),
                lifecycle_config=config.lifecycle,
                sla=config.sla,
            ),
            transport=make_transport(config.sender),
        )

    def poll(self) -> PollReport:
        """Connect to the source, process what is new, disconnect."""
        with closing(open_source(self.config.source)) as source:
            report = poll_once(self.engine, source, self.context,
                               should_stop=self.stop_requested.is_set)
        if report.results:
            log.info("poll of %s: %s", source.origin, dict(report.counts))
        return report

    def sweep(self, now: dt.datetime | None = None) -> SweepReport:
        """Apply the lifecycle timers and SLA escalations at *now* (default: the clock)."""
        with Session(self.engine) as session:
            report = sweep(session, now or utcnow(), self.config.lifecycle, self.config.sla,
                           self.context.notifier, self.context.staff)
        if report.resolved or report.closed or report.escalated:
            log.info("sweep: resolved %s, closed %s, escalated %s", report.resolved,
                     report.closed, report.escalated)
        return report

    def flush(self) -> FlushReport:
        """Deliver what is due in the outbox."""
        return flush_outbox(self.engine, self.transport, self.config.outbox)


def _log_rule_error(error: RuleError) -> None:
    logging.getLogger("mailbot.rules").error(
        "rule files not reloaded, the previous rules stay active:\n%s", error)
