"""Storage of the key lifecycle: wraps by key version."""
