"""How often a reader who keeps every release reads an exact small count: random data sets (an outside reviewer's
generator: 10-30 women in January-March, then each month 1-12 more and, three times in ten, 1-3 late ones dated in
an earlier month), four monthly releases (cut-offs March to June) protected by the real `protect()`, and the
attacker of tests/publication_attacker.py over all of them. Pure Python, no database.

    python bench/release_attack.py [--seeds 400] [--alone]

`--alone` protects each release on its own (what the code did before releases were kept) and gives the attacker
no "reserved means changed" inference, which holds of the current protection only."""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from caseapp.services.indicators.publication import releases  # noqa: E402
from caseapp.services.indicators.publication.protect import protect  # noqa: E402
from caseapp.services.indicators.publication.tables import Record, tabulate  # noqa: E402
from tests.publication_attacker import exact_reads  # noqa: E402

K = 5
NATIONALITIES, WEIGHTS = ["CO", "VE", "PE", "EC"], [6, 2, 2, 1]


def one_data_set(seed: int, alone: bool) -> list:
    rng = random.Random(seed)
    records: list[Record] = []

    def add(n, months):
        for _ in range(n):
            on = date(2025, rng.choice(months), rng.randint(1, 28))
            records.append(Record(on, {"nationality": rng.choices(NATIONALITIES, weights=WEIGHTS)[0]}))

    add(rng.randint(10, 30), [1, 2, 3])
    known, sums, last, out = {}, {}, set(), []
    for cut in (3, 4, 5, 6):
        if cut > 3:
            add(rng.randint(1, 12), [cut])
            if rng.random() < 0.3:
                add(rng.randint(1, 3), list(range(1, cut)))
        base = tabulate("x", [r for r in records if r.on.month <= cut], ("nationality",), last_month=cut)
        if alone:
            hidden = protect([base], K)[0]["x"]
        else:
            given = {"x": [(g, tuple(sorted(v))) for g, v in sums.items()]}
            hidden = protect([base], K, {"x": known}, {"x": last}, given)[0]["x"]
            for group, value in releases.sums_given_away(base, hidden):
                sums.setdefault(group, set()).add(value)
        published = {c: (None if c in hidden else v) for c, v in base.cells.items()}
        for c, v in published.items():
            if v is not None:
                known[c] = tuple(sorted({*known.get(c, ()), v}))
        last = set(hidden)
        out.append((base, published))
    return exact_reads(out, K, reserved_means_changed=not alone)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=400)
    parser.add_argument("--alone", action="store_true")
    args = parser.parse_args()
    started, leaky = time.perf_counter(), 0
    for seed in range(args.seeds):
        reads = one_data_set(seed, args.alone)
        if reads:
            leaky += 1
            print(f"seed {seed}: {len(reads)} exact reads, e.g. {reads[0]}", flush=True)
    print(f"{'alone' if args.alone else 'against earlier releases'}: {leaky} of {args.seeds} data sets give an exact "
          f"read ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
