"""Use-cases of cooperation requests: the lifecycle, its events and receipts, sealed particulars,
evidence copies, reads and the live inbox."""
