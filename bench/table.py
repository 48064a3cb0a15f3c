"""The results of bench/run.py on SQLite and on PostgreSQL side by side, as the Markdown table for bench/README.md.

    .venv/bin/python bench/table.py [--sqlite bench/out/results-sqlite.json] [--postgresql bench/out/results-postgresql.json]
        [--workers 2]

Rows: the issue's endpoints as multiples of the floor measured in the same run, then the mixed load as a share of
the floor's own requests per second on the same workers (with --workers' count first, then every count measured), the
floor itself and the access log's appends per second. A missing file or figure shows as "–".
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
ROWS = [  # label in the results, label in the table, goal (× floor)
    ("search by document", "search by document (API)", 8),
    ("case list page", "case list page", 15),
    ("case detail", "case detail", 8),
    ("registration", "registration (API)", 15),
    ("coordinator dashboard", "coordinator dashboard", 15),
    ("auditor console by case code", "auditor console by case code", 8),
]
MIXED_GOAL = 4
NONE = "–"


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def times_floor(results: dict | None, name: str, goal: int) -> str:
    if results is None:
        return NONE
    endpoint = results["endpoints"].get(name)
    if endpoint is None:
        return NONE
    if "error" in endpoint:
        return "failed"
    ratio = results["ratios"][f"{name} / floor"]
    return f"{ratio}" if ratio <= goal else f"**{ratio}**"


def mixed_share(results: dict | None, workers: str) -> str:
    m = (results or {}).get("mixed", {}).get(workers)
    if not m:
        return NONE
    text = f"1/{m['one_in']} ({m['mixed']['requests_per_s']} of {m['floor']['requests_per_s']}/s)"
    return text if m["goal_met"] else f"**{text}**"


def floor_ms(results: dict | None) -> str:
    if results is None or "floor (/healthz)" not in results["endpoints"]:
        return NONE
    return f"{results['endpoints']['floor (/healthz)']['server']['p50']} ms"


def appends(results: dict | None) -> str:
    a = (results or {}).get("appends") or {}
    figures = a.get("figures")
    if not figures:
        return NONE
    if isinstance(figures, dict):
        return ", ".join(f"{k}: {v}" for k, v in figures.items())
    return str(figures)


def table(sqlite: dict | None, postgresql: dict | None, workers: int = 2) -> str:
    lines = ["| endpoint | × floor, SQLite | × floor, PostgreSQL | goal |", "|---|---:|---:|---|"]
    for name, label, goal in ROWS:
        lines.append(f"| {label} | {times_floor(sqlite, name, goal)} | {times_floor(postgresql, name, goal)} | ≤ {goal} |")
    counts = sorted({int(w) for r in (sqlite, postgresql) if r for w in r.get("mixed", {})} | {workers})
    for w in [workers, *[c for c in counts if c != workers]]:
        label = f"mixed load, share of the floor's requests/s, {w} worker{'s' if w != 1 else ''}"
        lines.append(f"| {label} | {mixed_share(sqlite, str(w))} | {mixed_share(postgresql, str(w))} | "
                     f"≥ 1/{MIXED_GOAL} |")
    lines.append(f"| floor (`/healthz`), server p50 | {floor_ms(sqlite)} | {floor_ms(postgresql)} | |")
    if any((r or {}).get("appends", {}).get("figures") for r in (sqlite, postgresql)):
        lines.append(f"| access-log appends/s by concurrent writers | {appends(sqlite)} | {appends(postgresql)} | |")
    lines.append("")
    lines.append("Figures in **bold** miss their goal.")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sqlite", type=Path, default=OUT / "results-sqlite.json")
    p.add_argument("--postgresql", type=Path, default=OUT / "results-postgresql.json")
    p.add_argument("--workers", type=int, default=2, help="the worker count of the issue's mixed-load row")
    args = p.parse_args(argv)
    print(table(load(args.sqlite), load(args.postgresql), args.workers))


if __name__ == "__main__":
    main()
