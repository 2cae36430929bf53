"""cooperation requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casehub.persistence.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cooperation_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("requester_agency_id", sa.Uuid(), nullable=False),
        sa.Column("requested_agency_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("particulars", sa.LargeBinary(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledge_by", UTCDateTime(), nullable=True),
        sa.Column("decide_by", UTCDateTime(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("hold_until", UTCDateTime(), nullable=True),
        sa.Column("pending_until", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["principal.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requested_agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requester_agency_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cooperation_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cooperation_request_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cooperation_request_pending_until"), ["pending_until"], unique=False
        )
        batch_op.create_index(
            "ix_request_requested_status", ["requested_agency_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_request_requester_status", ["requester_agency_id", "status"], unique=False
        )

    op.create_table(
        "request_event",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("actor_agency_id", sa.Uuid(), nullable=False),
        sa.Column("actor_principal_id", sa.Uuid(), nullable=False),
        sa.Column("requester_agency_id", sa.Uuid(), nullable=False),
        sa.Column("requested_agency_id", sa.Uuid(), nullable=False),
        sa.Column("visible_to_requested", sa.Boolean(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("prev_digest", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["actor_principal_id"],
            ["principal.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["cooperation_request.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requested_agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requester_agency_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
        sa.UniqueConstraint("request_id", "number"),
    )
    with op.batch_alter_table("request_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_event_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_request_event_requested_agency_id"),
            ["requested_agency_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_request_event_requester_agency_id"),
            ["requester_agency_id"],
            unique=False,
        )

    op.create_table(
        "request_evidence",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("evidence_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("description", sa.LargeBinary(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["cooperation_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("request_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_evidence_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "request_message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("author_agency_id", sa.Uuid(), nullable=False),
        sa.Column("author_principal_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["author_principal_id"],
            ["principal.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["cooperation_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("request_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_message_request_id"), ["request_id"], unique=False
        )

    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_column("timezone")

    with op.batch_alter_table("request_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_message_request_id"))

    op.drop_table("request_message")
    with op.batch_alter_table("request_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_evidence_request_id"))

    op.drop_table("request_evidence")
    with op.batch_alter_table("request_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_event_requester_agency_id"))
        batch_op.drop_index(batch_op.f("ix_request_event_requested_agency_id"))
        batch_op.drop_index(batch_op.f("ix_request_event_request_id"))

    op.drop_table("request_event")
    with op.batch_alter_table("cooperation_request", schema=None) as batch_op:
        batch_op.drop_index("ix_request_requester_status")
        batch_op.drop_index("ix_request_requested_status")
        batch_op.drop_index(batch_op.f("ix_cooperation_request_pending_until"))
        batch_op.drop_index(batch_op.f("ix_cooperation_request_case_id"))

    op.drop_table("cooperation_request")
