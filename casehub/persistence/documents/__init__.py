"""Registered GraphQL documents."""
