"""Safety flags on a case: what everyone who touches her case must know before contacting her."""
from caseapp.services.safety.flags import (
    clear_flag,
    flag_history,
    flags_by_code,
    flags_with_cases,
    professionals_for,
    set_flag,
)

__all__ = ["clear_flag", "flag_history", "flags_by_code", "flags_with_cases", "professionals_for", "set_flag"]
