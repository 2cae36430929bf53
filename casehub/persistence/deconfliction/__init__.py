"""Storage of deconfliction: identifier indexes, hit checks and hit notices."""
