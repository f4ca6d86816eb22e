"""Conversations, messages, handoff events and safety events.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the values in bot/models.py at this revision: a migration must not
# change meaning when the models change later.
CHANNELS = ("api", "web", "telegram", "cli", "eval")
ROLES = ("user", "assistant", "officer")
HANDOFF_STATUSES = ("none", "offered", "requested", "urgent")


# Names go through op.f(): they are final, not to be fed to the naming convention again.


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("channel_ref", sa.String(255), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("mission_id", sa.String(64), nullable=True),
        sa.Column("topic_doc_id", sa.String(128), nullable=True),
        sa.Column("handoff_status", sa.String(16), server_default="none", nullable=False),
        sa.Column("handoff_reason", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
        sa.CheckConstraint(_in("channel", CHANNELS), name=op.f("ck_conversations_channel")),
        sa.CheckConstraint(
            _in("handoff_status", HANDOFF_STATUSES), name=op.f("ck_conversations_handoff_status")
        ),
    )
    op.create_index(
        "ix_conversations_channel_channel_ref", "conversations", ["channel", "channel_ref"]
    )

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("declined", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("client_ref", sa.String(128), nullable=True),
        sa.Column("trace", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_messages_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "conversation_id", "client_ref", name="uq_messages_conversation_id_client_ref"
        ),
        sa.CheckConstraint(_in("role", ROLES), name=op.f("ck_messages_role")),
    )
    op.create_index("ix_messages_conversation_id", "messages", ["conversation_id"])

    op.create_table(
        "handoff_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_events"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_handoff_events_conversation_id_conversations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_handoff_events_conversation_id", "handoff_events", ["conversation_id"])

    op.create_table(
        "safety_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_safety_events"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_safety_events_conversation_id_conversations",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_safety_events_conversation_id", "safety_events", ["conversation_id"])
    op.create_index("ix_safety_events_created_at", "safety_events", ["created_at"])


def downgrade() -> None:
    op.drop_table("safety_events")
    op.drop_table("handoff_events")
    op.drop_table("messages")
    op.drop_table("conversations")
