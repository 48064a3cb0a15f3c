"""Demo data: cases."""


def load(echo) -> None:
    """Nothing yet."""
