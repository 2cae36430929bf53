"""The HTTP edge of /graphql: routes, the view and its websockets, gate, headers, access log,
metrics, tracing."""
