"""Telegram: processed update ids (each update answered once) and each chat's language.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name="pk_telegram_updates"),
    )
    # Old ids are pruned by age: Telegram keeps an undelivered update for 24 hours at most.
    op.create_index("ix_telegram_updates_received_at", "telegram_updates", ["received_at"])

    op.create_table(
        "telegram_chats",
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name="pk_telegram_chats"),
    )


def downgrade() -> None:
    op.drop_table("telegram_chats")
    op.drop_table("telegram_updates")
