"""Storage of the audit chain."""
