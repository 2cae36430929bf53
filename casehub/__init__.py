"""casehub: cross-border case sharing and cooperation requests over GraphQL."""

__version__ = "0.1.0"
