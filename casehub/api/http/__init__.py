"""The HTTP edge of /graphql: routes, gate, headers, access log, metrics, tracing."""
