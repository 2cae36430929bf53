"""visible cases indexes: the cases page reads each source of sight in id order

The page merges an agency's owned cases, the cases shared to it and those linked to its
requests, each read newest first and stopped at the page's size; shares already have
(agency_id, case_id), these give the two other sources the same walk.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_case_file_owner_id", "case_file", ["owner_agency_id", "id"], unique=False)
    op.create_index(
        "ix_request_requested_case",
        "cooperation_request",
        ["requested_agency_id", "case_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_request_requested_case", table_name="cooperation_request")
    op.drop_index("ix_case_file_owner_id", table_name="case_file")
