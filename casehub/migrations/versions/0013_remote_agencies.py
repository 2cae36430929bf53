"""remote agencies: a peer hub's agencies, from its signed directory, beside this hub's own

`agency.home_hub_id` names the peer hub whose directory listed the agency (NULL: this hub's
own), `agency.delisted_at` when that directory stopped listing it (the row is kept: requests
may refer to it). Codes stay unique among this hub's own agencies (a partial unique index),
and among each peer's; a peer's agency may have a local agency's code.
`federation_peer.directory_issued_at` is the issuedAt of the last directory applied from the
peer, so that an older one arriving later is ignored.

On SQLite, dropping the column constraint unique(code) recreates the agency table (batch
mode), which every agency-owned table references: the migration environment turns foreign
key enforcement off for the run and checks every reference before committing.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casehub.persistence.types import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite's unique(code) of 0001 has no name; this names it on reflection so it can be dropped.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
_POSTGRES_CODE_KEY = "agency_code_key"  # PostgreSQL's name for 0001's unique(code)
_LOCAL_CODE = "uq_agency_local_code"
_HOME_CODE = "uq_agency_home_hub_code"
_HOME_FK = "agency_home_hub_id_fkey"
_LOCAL = sa.text("home_hub_id IS NULL")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    with op.batch_alter_table("federation_peer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("directory_issued_at", UTCDateTime(), nullable=True))
    sqlite = _sqlite()
    with op.batch_alter_table(
        "agency", schema=None, naming_convention=_SQLITE_NAMES if sqlite else None
    ) as batch_op:
        batch_op.add_column(sa.Column("home_hub_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("delisted_at", UTCDateTime(), nullable=True))
        batch_op.drop_constraint("uq_agency_code" if sqlite else _POSTGRES_CODE_KEY, "unique")
        batch_op.create_foreign_key(_HOME_FK, "federation_peer", ["home_hub_id"], ["hub_id"])
        batch_op.create_unique_constraint(_HOME_CODE, ["home_hub_id", "code"])
    op.create_index(
        _LOCAL_CODE,
        "agency",
        ["code"],
        unique=True,
        postgresql_where=_LOCAL,
        sqlite_where=_LOCAL,
    )


def downgrade() -> None:
    # Peers' agencies cannot outlive the column that says whose they are.
    op.execute("DELETE FROM agency WHERE home_hub_id IS NOT NULL")
    op.drop_index(_LOCAL_CODE, table_name="agency")
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_constraint(_HOME_CODE, "unique")
        batch_op.drop_constraint(_HOME_FK, "foreignkey")
        batch_op.drop_column("delisted_at")
        batch_op.drop_column("home_hub_id")
        batch_op.create_unique_constraint(
            "uq_agency_code" if _sqlite() else _POSTGRES_CODE_KEY, ["code"]
        )
    with op.batch_alter_table("federation_peer", schema=None) as batch_op:
        batch_op.drop_column("directory_issued_at")
