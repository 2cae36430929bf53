"""Alembic migrations of the casehub schema."""
