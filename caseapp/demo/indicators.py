"""Demo data: indicators."""


def load(echo) -> None:
    """Nothing yet."""
