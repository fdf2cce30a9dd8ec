"""``mailbot run``: three APScheduler jobs (poll, flush, sweep) until Ctrl-C or SIGTERM.

Each job runs with ``max_instances=1`` and ``coalesce=True``: a slow poll is
never run twice at once and missed runs collapse into one. A job that raises
is logged by APScheduler and stays scheduled, so a mailbox outage only costs
the polls it lasts. On a signal, running jobs finish before the process exits
(a message half-way through its transaction is either committed or rolled
back, never both).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from mailbot.errors import MailbotError
from mailbot.service import Service

log = logging.getLogger("mailbot")


def build_scheduler(service: Service) -> BackgroundScheduler:
    """A scheduler with the poll, flush and sweep jobs, all due immediately."""
    schedule = service.config.schedule
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
        "max_instances": 1, "coalesce": True, "misfire_grace_time": 30})
    now = dt.datetime.now(dt.UTC)
    scheduler.add_job(_quietly(service.poll), "interval",
                      seconds=schedule.poll_interval_seconds, id="poll", next_run_time=now)
    scheduler.add_job(_quietly(service.flush), "interval",
                      seconds=schedule.flush_interval_seconds, id="flush", next_run_time=now)
    scheduler.add_job(_quietly(service.sweep), "interval",
                      seconds=service.config.lifecycle.sweep_interval_seconds, id="sweep",
                      next_run_time=now)
    return scheduler


def _quietly(job: Callable[[], object]) -> Callable[[], None]:
    """Log an expected failure (mailbox down) in one line instead of a traceback.

    Anything else propagates to APScheduler, which logs it with its traceback.
    """
    def run() -> None:
        try:
            job()
        except MailbotError as exc:
            log.error("%s failed, will try again at the next run: %s", job.__name__, exc)

    run.__name__ = job.__name__
    return run


def run_forever(service: Service, stop: threading.Event | None = None) -> None:
    """Run the jobs until *stop* is set, SIGINT or SIGTERM; then shut down cleanly."""
    stop = stop or service.stop_requested
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda num, _frame: _request_stop(stop, num))
    scheduler = build_scheduler(service)
    scheduler.start()
    log.info("mailbot running: poll every %ss, flush every %ss",
             service.config.schedule.poll_interval_seconds,
             service.config.schedule.flush_interval_seconds)
    try:
        stop.wait()
    finally:
        service.stop_requested.set()  # a running poll stops after its current message
        log.info("stopping: waiting for running jobs to finish")
        scheduler.shutdown(wait=True)
        log.info("stopped")


def _request_stop(stop: threading.Event, signum: int) -> None:
    log.info("received %s", signal.Signals(signum).name)
    stop.set()
