"""Use-cases of cooperation requests: drafting (lifecycle), transitions and messages, their
events and receipts, evidence copies, reads and the overdue list."""
