"""Rules of deconfliction: match tokens and the hit-check allowance."""
