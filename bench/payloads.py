"""Request bodies the benchmarks send, shared by bench/run.py (over HTTP) and bench/pages.py (in process)."""
from __future__ import annotations


def registration(rnd) -> dict:
    """A new victim with a random document, so each registration is new (not a replay) and rarely a duplicate."""
    n = rnd.randint(10**9, 2 * 10**9)
    return {
        "given_names": "Bench", "family_names": f"Persona {n}", "document_type": "CC", "document_number": str(n),
        "birth_date": "1990-01-01", "phone": f"3{n % 10**9:09d}", "sex": "female", "nationality": "CO",
        "identified_on": "2026-10-01", "identification_source": "coat", "exploitation_purposes": ["sexual_exploitation"],
        "trafficking_scope": "internal", "consent_assistance": True, "consent_method": "written",
        "victim_status": "victim"}
