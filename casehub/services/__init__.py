"""Use-cases: one function per operation; they own transactions, policy, crypto and audit."""
