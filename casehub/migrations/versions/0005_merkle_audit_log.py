"""merkle audit log: entries integrated by a sequencer into signed tree heads; feed positions

The hash chain's columns go: the chain is replaced by the Merkle log, which the sequencer
builds from the existing entries first, in their order (their `txid` is 0, so they are
integrated before any new one).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FEEDS = ("request_event", "hit_notice")


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("txid", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("leaf_index", sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint("uq_audit_event_leaf_index", ["leaf_index"])
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("hash")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("txid", server_default=None)
        batch_op.create_index(
            "ix_audit_event_pending",
            ["txid", "seq"],
            unique=False,
            postgresql_where=sa.text("leaf_index IS NULL"),
            sqlite_where=sa.text("leaf_index IS NULL"),
        )
    op.create_table(
        "audit_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx"),
    )
    op.create_table(
        "audit_tree_head",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("tree_size"),
    )
    for table in _FEEDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "position_xid", sa.BigInteger(), nullable=False, server_default=sa.text("0")
                )
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("position_xid", server_default=None)
            batch_op.create_index(f"ix_{table}_position", ["position_xid", "seq"], unique=False)


def downgrade() -> None:
    for table in _FEEDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_position")
            batch_op.drop_column("position_xid")
    op.drop_table("audit_tree_head")
    op.drop_table("audit_node")
    # The chain cannot be rebuilt from the log without re-hashing every entry: a downgrade
    # leaves empty hashes, and `casehub audit verify` of the older release reports them.
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_pending")
        batch_op.drop_constraint("uq_audit_event_leaf_index", type_="unique")
        batch_op.drop_column("leaf_index")
        batch_op.drop_column("txid")
        batch_op.add_column(
            sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("hash", sa.String(length=64), nullable=False, server_default="")
        )
