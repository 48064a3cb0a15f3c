"""What a long-running server process does once the app is loaded (gunicorn.conf.py's post_worker_init; the
in-process benchmark does the same, so that its figures are the server's).

The app keeps about 240,000 objects for as long as the worker lives (modules, SQLAlchemy's mappers and compiled
statements, the catalogues). Python's cyclic collector went over all of them on each full pass: every few hundred
requests a pause of 75-180 ms (bench/pages.py with a collector probe, 1,230 requests of the case list and the case
page: 544 ms in the collector, two full passes of 180 ms among them). Frozen, they are left out of every pass;
garbage made by a request is freed by reference counting as before, and cycles among new objects are still
collected, only less often (a younger generation of 10,000 allocations instead of 700): 97 ms in all for the same
requests, and no full pass.
"""
from __future__ import annotations

import gc

YOUNG_GENERATION = 10_000  # allocations between passes over the youngest objects (Python's default: 700)


def settle() -> None:
    """Collect what loading the app left behind, freeze the rest out of the cyclic collector, collect less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, middle, old)
