"""Use-cases of cases and what hangs off them (subjects, identifiers, evidence, custody, shares,
shredding), and who may see which case."""
