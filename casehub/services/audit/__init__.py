"""The audit trail: appending entries, and an agency administrator's reads of it."""
