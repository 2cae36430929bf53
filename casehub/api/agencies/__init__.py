"""GraphQL of agencies and the authenticated principal."""
