"""Rules of the audit trail: the chain's links and who may read which event."""
