"""Data keys: created, wrapped per agency, rotated and rewrapped."""
