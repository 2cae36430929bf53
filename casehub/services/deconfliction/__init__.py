"""Hit/no-hit deconfliction: blind indexes of identifiers, hit checks and hit notices."""
