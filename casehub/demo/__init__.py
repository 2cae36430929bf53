"""The demo scenario (fictional data and its loader), at the edge: it drives the real use-cases."""
