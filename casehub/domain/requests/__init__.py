"""Rules of cooperation requests: the state machine, content, deadlines and receipts."""
