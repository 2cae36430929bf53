"""federation outbox: messages to peer hubs, queued with the change, kept until acknowledged

Each message is written in the transaction of the change it tells of, its payload sealed to
this hub's own key, and kept with the envelope as last sent (a retry sends the same bytes)
until the peer's signed ack arrives (DELIVERED) or the sender gives up (DEAD). A sequence is
used once per peer's conversation.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casehub.persistence.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "federation_outbox",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("peer", sa.Uuid(), nullable=False),
        sa.Column("conversation", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error_code", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("ack", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["peer"], ["federation_peer.hub_id"]),
        sa.PrimaryKeyConstraint("message_id"),
        sa.UniqueConstraint("peer", "conversation", "sequence"),
    )
    op.create_index("ix_federation_outbox_due", "federation_outbox", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_federation_outbox_due", table_name="federation_outbox")
    op.drop_table("federation_outbox")
