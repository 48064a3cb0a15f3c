"""Assistance route: steps, step kinds, due-date rules, life plan, shelters, legal follow-up (issue 4)."""
