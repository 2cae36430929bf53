"""Storage: the only package that imports SQLAlchemy and SQLModel."""

from casehub.persistence.base import DuplicateError
from casehub.persistence.database import Database, sqlite_path
from casehub.persistence.store import Store

__all__ = ["Database", "DuplicateError", "Store", "sqlite_path"]
