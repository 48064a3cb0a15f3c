"""The route of a case: its lifecycle (the only writer of Case.status), its due dates and their rule table,
and the extensions of its phases. Below every other domain package: they call it, it calls none of them."""
from caseapp.services.route.due import add_rule, due_dates, list_rules, phase_dates, rule_in_force
from caseapp.services.route.extensions import extend_phase
from caseapp.services.route.lifecycle import (
    OPEN_STAY_CHOICES,
    RULES,
    change_status,
    close_case,
    close_immediate,
    open_stay_policy,
    open_stay_setting_version,
    reopen_case,
    require_open,
    set_open_stay_policy,
)

__all__ = [
    "OPEN_STAY_CHOICES", "RULES", "add_rule", "change_status", "close_case", "close_immediate", "due_dates",
    "extend_phase", "list_rules", "open_stay_policy", "open_stay_setting_version", "phase_dates", "reopen_case",
    "require_open", "rule_in_force", "set_open_stay_policy",
]
