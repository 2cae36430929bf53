"""Storage of cooperation requests, their events, messages and evidence copies."""
