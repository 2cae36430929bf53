"""dpop bound tokens: a token's DPoP key thumbprint, and the replay cache of used proofs

A token issued with `--bind dpop` is accepted only with a DPoP proof (RFC 9449) signed by the
key whose RFC 7638 thumbprint it holds; each proof is accepted once, across every replica, so
the used proofs are kept in the database until their issued-at leaves the accepted skew.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casehub.persistence.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_token", sa.Column("dpop_jkt", sa.String(length=43), nullable=True))
    op.create_table(
        "dpop_proof",
        sa.Column("jkt", sa.String(length=43), nullable=False),
        sa.Column("jti", sa.String(length=128), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jkt", "jti"),
    )
    op.create_index("ix_dpop_proof_expires_at", "dpop_proof", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dpop_proof_expires_at", table_name="dpop_proof")
    op.drop_table("dpop_proof")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("dpop_jkt")
