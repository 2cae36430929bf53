"""Federation between hubs: pinned peers."""
