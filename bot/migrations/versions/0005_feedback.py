"""Citizen feedback: helpful / not helpful on each answer, a comment with the 1-5 rating
(and, on Telegram, which conversation the chat's next message comments on).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answer_ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_answer_ratings"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_answer_ratings_message_id_messages",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_answer_ratings_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        # One vote per answer; a second click replaces the first.
        sa.UniqueConstraint("message_id", name="uq_answer_ratings_message_id"),
    )
    op.create_index("ix_answer_ratings_conversation_id", "answer_ratings", ["conversation_id"])
    op.add_column("ratings", sa.Column("comment", sa.Text()))
    # Telegram: the conversation whose rating the chat's next text message comments on.
    op.add_column("telegram_chats", sa.Column("comment_for", sa.String(64)))
    op.add_column("telegram_chats", sa.Column("comment_asked_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("telegram_chats") as batch:
        batch.drop_column("comment_asked_at")
        batch.drop_column("comment_for")
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("comment")
    op.drop_index("ix_answer_ratings_conversation_id", table_name="answer_ratings")
    op.drop_table("answer_ratings")
