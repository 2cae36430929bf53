"""Federation between hubs: the shapes of hub identity documents and fingerprints (pure;
casehub.crypto.hub_identity holds the keys)."""
