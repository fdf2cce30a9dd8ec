"""ticket lifecycle: assignee, participants, merges, status and SLA times; event cause; ratings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Existing tickets get ``participants = []``, ``status_changed_at`` from their last status
event (else ``updated_at``), ``resolved_at`` from their last move to « résolu » when they
are resolved or closed, and NULL for the rest (no first response is known: open tickets
already past their SLA target are escalated once at the first sweep).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMNs, also on SQLite (no copy of the table yet). NOT NULL columns start
    # with a server default or nullable, and are tightened once filled in.
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("assignee", sa.String(), nullable=True))
        batch.add_column(sa.Column("participants", sa.JSON(), nullable=False,
                                   server_default="[]"))
        batch.add_column(sa.Column("merged_into", sa.String(), nullable=True))
        batch.add_column(sa.Column("status_changed_at", WHEN, nullable=True))
        batch.add_column(sa.Column("first_response_at", WHEN, nullable=True))
        batch.add_column(sa.Column("resolved_at", WHEN, nullable=True))
        batch.add_column(sa.Column("escalated_at", WHEN, nullable=True))
        batch.create_index("ix_tickets_assignee", ["assignee"])
    last_status = ("SELECT MAX(e.at) FROM ticket_events e WHERE e.ticket_id = tickets.id "
                   "AND e.kind = 'status'")
    op.execute(f"UPDATE tickets SET status_changed_at = COALESCE(({last_status}), updated_at)")
    op.execute(sa.text(f"UPDATE tickets SET resolved_at = ({last_status} AND e.new_status = "
                       ":resolved) WHERE status IN (:resolved, :closed)")
               .bindparams(resolved="résolu", closed="fermé"))
    # The models have no server defaults: drop the one used to fill participants in.
    # (SQLite: the table is copied; mailbot runs migrations with foreign keys off.)
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("status_changed_at", existing_type=WHEN, nullable=False)
        batch.alter_column("participants", existing_type=sa.JSON(), existing_nullable=False,
                           server_default=None)

    # ADD COLUMN ... REFERENCES: a foreign key, unnamed as create_all makes it (PostgreSQL
    # names it ticket_events_message_row_id_fkey), and no table copy on SQLite.
    op.add_column("ticket_events", sa.Column("message_row_id", sa.Integer(),
                                             sa.ForeignKey("messages.id"), nullable=True),
                  inline_references=True)

    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(), nullable=False),
        sa.Column("message_row_id", sa.Integer(), nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["message_row_id"], ["messages.id"]),
    )
    op.create_index("ix_ratings_ticket_id", "ratings", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("ratings")
    with op.batch_alter_table("ticket_events") as batch:
        # The foreign key goes with its column (SQLite copies the table without it;
        # PostgreSQL drops a column's constraints with it).
        batch.drop_column("message_row_id")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_assignee")
        for column in ("escalated_at", "resolved_at", "first_response_at", "status_changed_at",
                       "merged_into", "participants", "assignee"):
            batch.drop_column(column)
