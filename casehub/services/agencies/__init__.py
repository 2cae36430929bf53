"""Use-cases of agencies and their principals: registration, tokens, authentication."""
