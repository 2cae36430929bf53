"""Storage of agencies, their principals and API tokens."""
