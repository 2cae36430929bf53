"""Federation between hubs: this hub's identity, pinned peers (and, later, messages)."""
