"""Joint attribution: scales, one partner's ACH, the joint picture, case objects (pure)."""
