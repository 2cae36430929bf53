"""GraphQL of deconfliction: hit checks, hit notices, matchable subjects."""
