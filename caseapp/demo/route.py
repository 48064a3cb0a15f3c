"""Demo data: route."""


def load(echo) -> None:
    """Nothing yet."""
