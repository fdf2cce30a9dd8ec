"""baseline: the schema of the last mailbot without migrations

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Written by hand from mailbot/store/models.py as it was then: the tables, types, indexes,
unique constraints and foreign keys ``SQLModel.metadata.create_all`` made, in its order.
A database that mailbot created before migrations existed has exactly this schema: it is
stamped 0001 (no DDL) and upgraded from there. Unnamed constraints stay unnamed, as
create_all left them (PostgreSQL names them itself, e.g. ``incidents_signature_key``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# What SQLModel maps Python types to: str -> AutoString (VARCHAR), datetime ->
# DateTime(timezone=True), bool -> Boolean, float -> Float.
STR = sa.String
WHEN = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "folder_state",
        _id(),
        sa.Column("origin", STR(), nullable=False),
        sa.Column("uidvalidity", sa.Integer(), nullable=False),
        sa.Column("last_uid", sa.Integer(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("origin", name="uq_folder_origin"),
    )
    op.create_table(
        "incidents",
        _id(),
        sa.Column("signature", STR(), nullable=False),
        sa.Column("app_version", STR(), nullable=False),
        sa.Column("error_code", STR(), nullable=False),
        sa.Column("first_seen", WHEN, nullable=False),
        sa.Column("last_seen", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("signature"),
    )
    op.create_table(
        "tickets",
        _id(),
        sa.Column("ref", STR(), nullable=False),
        sa.Column("status", STR(), nullable=False),
        sa.Column("requester", STR(), nullable=False),
        sa.Column("requester_name", STR(), nullable=False),
        sa.Column("reply_to", STR(), nullable=True),
        sa.Column("subject", STR(), nullable=False),
        sa.Column("language", STR(), nullable=False),
        sa.Column("priority", STR(), nullable=False),
        sa.Column("category", STR(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tickets_ref", "tickets", ["ref"], unique=True)
    op.create_index("ix_tickets_requester", "tickets", ["requester"])
    op.create_table(
        "access_log",
        _id(),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor", STR(), nullable=False),
        sa.Column("action", STR(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("detail", STR(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
    )
    op.create_index("ix_access_log_ticket_id", "access_log", ["ticket_id"])
    op.create_table(
        "faq_suggestions",
        _id(),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("article_id", STR(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
    )
    op.create_index("ix_faq_suggestions_article_id", "faq_suggestions", ["article_id"])
    op.create_index("ix_faq_suggestions_ticket_id", "faq_suggestions", ["ticket_id"])
    op.create_table(
        "incident_tickets",
        _id(),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("school", STR(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "ticket_id", name="uq_incident_ticket"),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
    )
    op.create_index("ix_incident_tickets_incident_id", "incident_tickets", ["incident_id"])
    op.create_index("ix_incident_tickets_ticket_id", "incident_tickets", ["ticket_id"])
    op.create_table(
        "messages",
        _id(),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("direction", STR(), nullable=False),
        sa.Column("message_id", STR(), nullable=False),
        sa.Column("content_sha256", STR(), nullable=False),
        sa.Column("origin", STR(), nullable=False),
        sa.Column("source_key", STR(), nullable=False),
        sa.Column("from_addr", STR(), nullable=False),
        sa.Column("subject", STR(), nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("kind", STR(), nullable=False),
        sa.Column("body_text", STR(), nullable=False),
        sa.Column("outcome", STR(), nullable=False),
        sa.Column("outcome_reason", STR(), nullable=False),
        sa.Column("outcome_detail", STR(), nullable=False),
        sa.Column("raw_sealed", sa.Boolean(), nullable=False),
        sa.Column("rule_hits", sa.JSON(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("direction", "message_id", "content_sha256",
                            name="uq_message_identity"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
    )
    op.create_index("ix_messages_message_id", "messages", ["message_id"])
    op.create_index("ix_messages_ticket_id", "messages", ["ticket_id"])
    op.create_table(
        "outbox",
        _id(),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("message_id", STR(), nullable=False),
        sa.Column("mail_from", STR(), nullable=False),
        sa.Column("rcpt_to", STR(), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("state", STR(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("claimed_at", WHEN, nullable=True),
        sa.Column("last_error", STR(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_outbox_rcpt_to", "outbox", ["rcpt_to"])
    op.create_index("ix_outbox_state", "outbox", ["state"])
    op.create_index("ix_outbox_ticket_id", "outbox", ["ticket_id"])
    op.create_table(
        "ticket_events",
        _id(),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", STR(), nullable=False),
        sa.Column("old_status", STR(), nullable=True),
        sa.Column("new_status", STR(), nullable=True),
        sa.Column("detail", STR(), nullable=False),
        sa.Column("actor", STR(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"])
    op.create_table(
        "reports",
        _id(),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_row_id", sa.Integer(), nullable=True),
        sa.Column("report_id", STR(), nullable=True),
        sa.Column("signature", STR(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("name_digests", sa.JSON(), nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["message_row_id"], ["messages.id"]),
        sa.UniqueConstraint("report_id"),
    )
    op.create_index("ix_reports_signature", "reports", ["signature"])
    op.create_index("ix_reports_ticket_id", "reports", ["ticket_id"])


def downgrade() -> None:
    for table in ("reports", "ticket_events", "outbox", "messages", "incident_tickets",
                  "faq_suggestions", "access_log", "tickets", "incidents", "folder_state"):
        op.drop_table(table)  # drops its indexes with it
