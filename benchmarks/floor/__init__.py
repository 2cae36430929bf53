"""The floor: each workload served by a hand-written Starlette endpoint that returns the same
JSON as casehub for the same data, with one SQL query per table, the same decryption and the
same audit links, and no GraphQL, ORM or loaders: what casehub would cost with no overhead."""
