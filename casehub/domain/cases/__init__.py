"""Rules of cases: the access policy and what a share grants."""
