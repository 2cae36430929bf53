"""GraphQL of cases, subjects, identifiers, evidence, custody and shares."""
