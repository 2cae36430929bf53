"""Pure domain model: enums, value rules, access policy and errors (stdlib only)."""
