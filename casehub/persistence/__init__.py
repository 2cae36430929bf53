"""Storage: the only package that imports SQLAlchemy and SQLModel."""

from casehub.persistence.database import Database, sqlite_path
from casehub.persistence.store import DuplicateError, Store

__all__ = ["Database", "DuplicateError", "Store", "sqlite_path"]
