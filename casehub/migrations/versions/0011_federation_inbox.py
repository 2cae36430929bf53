"""federation inbox: envelopes accepted from peer hubs, once each by message id

Each envelope a pinned peer delivers is kept as received (its payload stays sealed at rest)
with its digest and the signed acknowledgement, so that a retry of the same envelope is
answered with the same ack and nothing is applied twice; a sequence number is used once per
sender's conversation.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casehub.persistence.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "federation_inbox",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("sender", sa.Uuid(), nullable=False),
        sa.Column("conversation", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("ack", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["sender"], ["federation_peer.hub_id"]),
        sa.PrimaryKeyConstraint("message_id"),
        sa.UniqueConstraint("sender", "conversation", "sequence"),
    )


def downgrade() -> None:
    op.drop_table("federation_inbox")
