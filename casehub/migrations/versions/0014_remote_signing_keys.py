"""remote signing keys: a peer's agencies' accredited keys, from its signed directory

`remote_signing_key` holds each key a peer hub's directory listed for one of its agencies,
once its accreditation (and revocation) checked out against the peer's accreditation keys:
the key's id at its home hub, the public JWK, the peer's signed statements as text and the
moments they state. A key the peer stops listing is kept, withdrawn_at set.
`federation_peer.accreditation_keys` is the peer hub's accreditation JWKS as its last
directory gave it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casehub.persistence.types import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("federation_peer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accreditation_keys", sa.Text(), nullable=True))
    op.create_table(
        "remote_signing_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("home_hub_id", sa.Uuid(), nullable=False),
        sa.Column("algorithm", sa.String(length=24), nullable=False),
        sa.Column("thumbprint", sa.String(length=64), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.Column("accreditation", sa.Text(), nullable=False),
        sa.Column("accreditation_signature", sa.Text(), nullable=False),
        sa.Column("accreditation_key", sa.String(length=64), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("not_after", UTCDateTime(), nullable=False),
        sa.Column("accredited_at", UTCDateTime(), nullable=False),
        sa.Column("revocation", sa.Text(), nullable=True),
        sa.Column("revocation_signature", sa.Text(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["home_hub_id"], ["federation_peer.hub_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("home_hub_id", "thumbprint"),
    )
    op.create_index(
        op.f("ix_remote_signing_key_agency_id"), "remote_signing_key", ["agency_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_remote_signing_key_agency_id"), table_name="remote_signing_key")
    op.drop_table("remote_signing_key")
    with op.batch_alter_table("federation_peer", schema=None) as batch_op:
        batch_op.drop_column("accreditation_keys")
