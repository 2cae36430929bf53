"""deconfliction: identifier indexes, hit checks and notices

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casehub.persistence.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hit_check",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("identifiers", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principal.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hit_check", schema=None) as batch_op:
        batch_op.create_index("ix_hit_check_agency_at", ["agency_id", "created_at"], unique=False)

    op.create_table(
        "hit_notice",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("hit_check_id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("asking_agency_id", sa.Uuid(), nullable=False),
        sa.Column("identifier_kind", sa.String(length=32), nullable=False),
        sa.Column("case_ids", sa.String(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["asking_agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["hit_check_id"],
            ["hit_check.id"],
        ),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("hit_notice", schema=None) as batch_op:
        batch_op.create_index("ix_hit_notice_agency_seq", ["agency_id", "seq"], unique=False)

    op.create_table(
        "identifier_index",
        sa.Column("identifier_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("blind_index", sa.LargeBinary(), nullable=False),
        sa.Column("match_token", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["identifier_id"],
            ["identifier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("identifier_id"),
    )
    with op.batch_alter_table("identifier_index", schema=None) as batch_op:
        batch_op.create_index(
            "ix_identifier_index_blind", ["agency_id", "blind_index"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_identifier_index_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_identifier_index_match", ["match_token"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_identifier_index_subject_id"), ["subject_id"], unique=False
        )

    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matchable", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.drop_column("matchable")

    with op.batch_alter_table("identifier_index", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identifier_index_subject_id"))
        batch_op.drop_index("ix_identifier_index_match")
        batch_op.drop_index(batch_op.f("ix_identifier_index_case_id"))
        batch_op.drop_index("ix_identifier_index_blind")

    op.drop_table("identifier_index")
    with op.batch_alter_table("hit_notice", schema=None) as batch_op:
        batch_op.drop_index("ix_hit_notice_agency_seq")

    op.drop_table("hit_notice")
    with op.batch_alter_table("hit_check", schema=None) as batch_op:
        batch_op.drop_index("ix_hit_check_agency_at")

    op.drop_table("hit_check")
