"""Policies, objectives, products, targets and achieved values (issue 5)."""
