"""GraphQL of the audit trail."""
