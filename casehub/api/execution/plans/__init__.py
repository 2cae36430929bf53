"""Compiled plans: an operation of a supported shape, run level by level without graphql-core.

`compile` turns a document into a plan (or None: the standard executor runs it), `run` runs a
plan, `extension.CompiledPlans` puts the two inside strawberry's pipeline. See `extension` for
why errors, null propagation and the read audit are the standard executor's by construction.
"""
