"""Storage of data-key wraps: per agency, and by key version for the key lifecycle."""
