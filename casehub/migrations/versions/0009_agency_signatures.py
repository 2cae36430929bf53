"""agency signatures: agencies' accredited signing keys, and their signatures on request steps

An agency registers the public half of a key it holds (Ed25519, or Ed25519 + ML-DSA-65); the hub
accredits it with a statement signed by the hub's accreditation key, and either may revoke it.
Decisive request steps carry the acting agency's detached signature over a canonical statement,
kept beside the step's event so that the receiver can verify it without trusting the hub.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casehub.persistence.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agency_signing_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("algorithm", sa.String(length=24), nullable=False),
        sa.Column("thumbprint", sa.String(length=64), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.Uuid(), nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.Column("accredited_by", sa.Uuid(), nullable=True),
        sa.Column("accredited_at", UTCDateTime(), nullable=True),
        sa.Column("not_before", UTCDateTime(), nullable=True),
        sa.Column("not_after", UTCDateTime(), nullable=True),
        sa.Column("accreditation", sa.Text(), nullable=True),
        sa.Column("accreditation_signature", sa.Text(), nullable=True),
        sa.Column("accreditation_key", sa.String(length=64), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revocation_reason", sa.String(length=500), nullable=True),
        sa.Column("revocation", sa.Text(), nullable=True),
        sa.Column("revocation_signature", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["registered_by"], ["principal.id"]),
        sa.ForeignKeyConstraint(["accredited_by"], ["principal.id"]),
        sa.ForeignKeyConstraint(["revoked_by"], ["principal.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("thumbprint"),
    )
    op.create_index(
        "ix_agency_signing_key_agency_id", "agency_signing_key", ["agency_id"], unique=False
    )
    op.create_table(
        "request_signature",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["cooperation_request.id"]),
        sa.ForeignKeyConstraint(["event_id"], ["request_event.id"]),
        sa.ForeignKeyConstraint(["key_id"], ["agency_signing_key.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_id", "nonce"),
    )
    op.create_index(
        "ix_request_signature_request_id", "request_signature", ["request_id"], unique=False
    )
    op.create_index(
        "ix_request_signature_event_id", "request_signature", ["event_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_request_signature_event_id", table_name="request_signature")
    op.drop_index("ix_request_signature_request_id", table_name="request_signature")
    op.drop_table("request_signature")
    op.drop_index("ix_agency_signing_key_agency_id", table_name="agency_signing_key")
    op.drop_table("agency_signing_key")
