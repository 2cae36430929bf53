"""Running one operation: its limits and cost before it runs, the executor, the extensions."""
