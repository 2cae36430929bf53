"""federation peers: the peer hubs an operator pinned by fingerprint

One row per peer hub: its verified public document (RFC 8785 text) and the fingerprint the
operator compared out of band. Removing a peer sets removed_at and keeps the row, so what it
sent stays attributable; every envelope received reads the row by its primary key.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casehub.persistence.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "federation_peer",
        sa.Column("hub_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("fingerprint", sa.String(length=71), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("hub_id"),
    )


def downgrade() -> None:
    op.drop_table("federation_peer")
