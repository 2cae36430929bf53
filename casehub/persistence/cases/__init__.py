"""Storage of cases: the visibility rule every look-up carries in its SQL."""
