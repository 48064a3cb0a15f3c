"""Demo data: accounts."""


def load(echo) -> None:
    """Nothing yet."""
