"""Storage: the only package that imports SQLAlchemy and SQLModel."""

from casehub.persistence.base import DuplicateError
from casehub.persistence.database import Database, sqlite_path
from casehub.persistence.notify import HIT_NOTICES, REQUEST_EVENTS, Feed
from casehub.persistence.store import Store

__all__ = [
    "HIT_NOTICES",
    "REQUEST_EVENTS",
    "Database",
    "DuplicateError",
    "Feed",
    "Store",
    "sqlite_path",
]
