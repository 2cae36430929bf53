"""GraphQL of cooperation requests."""
