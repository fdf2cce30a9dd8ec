"""The ticket lifecycle scenarios again, on a real PostgreSQL (see test_postgres.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot.service import Service
from tests.helpers import local_config
from tests.lifecycle_helpers import with_staff
from tests.test_intake import (  # noqa: F401
    test_someone_in_copy_who_answers_the_thread_becomes_a_participant,
)

# Scenarios and their fixtures, collected so that they run on PostgreSQL: this
# module's ``service`` overrides theirs.
from tests.test_lifecycle import (  # noqa: F401
    post,
    proposed,
    test_confirmation_resolves_and_asks_for_a_rating,
    test_rating_by_reply_and_by_mailto_link,
    test_sla_breach_escalates_once,
    test_timers_resolve_then_close,
)
from tests.test_staff_mail import (  # noqa: F401
    test_forged_staff_mail_changes_nothing_and_is_logged,
    test_merge_moves_messages_and_closes_the_duplicate,
    test_outsider_quoting_a_tracking_number_gets_a_new_ticket_and_both_are_logged,
    test_staff_answer_is_relayed_with_signature_without_quotes_and_assigns,
    ticket,
)


@pytest.fixture
def service(tmp_path: Path, postgres_url: str) -> Iterator[Service]:
    """The lifecycle test service with its database on PostgreSQL."""
    config = with_staff(local_config(tmp_path))
    config.database.url = postgres_url
    service = Service.from_config(config)
    assert service.engine.dialect.name == "postgresql"
    try:
        yield service
    finally:
        service.engine.dispose()
