"""The GraphQL API: types, resolvers (thin), context, loaders, limits and HTTP routes."""
