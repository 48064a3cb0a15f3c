"""Casework on a case's route: assistance steps and their kinds, the life plan, need-to-know notes, the legal
follow-up and shelters. Steps change the case's phase only through services.route.lifecycle."""
from caseapp.services.casework.legal import (
    add_event,
    add_measure,
    decide_measure,
    end_measure,
    get_legal,
    legal_of,
    open_proceeding,
    record_stage,
    save_proceeding,
    update_event,
    update_measure,
    update_proceeding,
)
from caseapp.services.casework.life_plan import add_goal, goals_of, list_goals, review_goal
from caseapp.services.casework.notes import add_note, list_notes, notes_of
from caseapp.services.casework.proceedings import history_of
from caseapp.services.casework.shelters import (
    end_stay,
    list_shelters,
    place,
    save_shelter,
    shelters_page,
    stays_of,
)
from caseapp.services.casework.step_kinds import (
    can_read_step_notes,
    kind_by_code,
    kinds_for,
    save_step_kind,
    step_kinds,
    toggle_step_kind,
)
from caseapp.services.casework.steps import add_step, list_steps, steps_of, steps_seen, update_step

__all__ = [
    "add_event", "add_goal", "add_measure", "add_note", "add_step", "can_read_step_notes", "end_stay", "get_legal",
    "goals_of", "kind_by_code", "kinds_for", "legal_of", "list_goals", "list_notes", "list_shelters", "list_steps", "notes_of",
    "place", "review_goal", "save_proceeding", "save_shelter", "save_step_kind", "shelters_page", "stays_of", "step_kinds", "steps_of", "steps_seen",
    "toggle_step_kind", "update_measure", "update_step",
    # legal follow-up (issue 13)
    "decide_measure", "end_measure", "history_of", "open_proceeding", "record_stage", "update_event", "update_proceeding",
]
