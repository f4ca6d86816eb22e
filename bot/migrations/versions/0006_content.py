"""Content workflow: guidance documents and every revision of them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of bot/models.py CONTENT_STATES and CONTENT_ORIGINS at this revision.
CONTENT_STATES = ("draft", "in_review", "published", "superseded", "retired", "rejected")
CONTENT_ORIGINS = ("editor", "upload", "files", "gap", "officer_reply", "rollback")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "content_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("doc_id", sa.String(80), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("live_revision_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_content_documents"),
        sa.UniqueConstraint("doc_id", "lang", name="uq_content_documents_doc_id_lang"),
    )
    op.create_table(
        "content_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_hash", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_content_revisions"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["content_documents.id"],
            name="fk_content_revisions_document_id_content_documents",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "document_id", "number", name="uq_content_revisions_document_id_number"
        ),
        sa.CheckConstraint(_in("state", CONTENT_STATES), name=op.f("ck_content_revisions_state")),
        sa.CheckConstraint(
            _in("origin", CONTENT_ORIGINS), name=op.f("ck_content_revisions_origin")
        ),
    )
    op.create_index("ix_content_revisions_state", "content_revisions", ["state"])


def downgrade() -> None:
    op.drop_index("ix_content_revisions_state", table_name="content_revisions")
    op.drop_table("content_revisions")
    op.drop_table("content_documents")
