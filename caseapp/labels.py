"""The label of every coded value, in one catalogue: screens, exports, the access-log console and the OpenAPI
enums read their labels here (Spanish through Babel, English from the message ids), never a raw code.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

# Spanish (translated) labels of the route's codes, for screens and exports.
LABELS = {
    "status": {"identified": _l("Identified"), "in_immediate_assistance": _l("In immediate assistance"),
               "in_mediate_assistance": _l("In mediate assistance"), "closed": _l("Closed")},
    "phase": {"immediate": _l("Immediate assistance"), "mediate": _l("Mediate assistance")},
    "step_status": {"planned": _l("Planned"), "in_progress": _l("In progress"), "done": _l("Done"),
                    "not_provided": _l("Not provided")},
    "closure": {"goals_met": _l("Goals met"), "voluntary_withdrawal": _l("Voluntary withdrawal"),
                "transferred": _l("Transferred"), "lost_contact": _l("Lost contact"), "death": _l("Death"),
                "other": _l("Other")},
    "stage": {"complaint": _l("Complaint"), "inquiry": _l("Inquiry"), "investigation": _l("Investigation"),
              "trial": _l("Trial"), "judgment": _l("Judgment"), "closed": _l("Closed")},
    "representation": {"none": _l("None"), "public_defender": _l("Public defender (Defensoría)"),
                       "entity_lawyer": _l("Lawyer of the entity"), "private_lawyer": _l("Private lawyer"),
                       "other": _l("Other")},
    "goal_area": {"health": _l("Health"), "education": _l("Education"), "employment": _l("Employment"),
                  "income": _l("Income"), "housing": _l("Housing"), "family": _l("Family"), "legal": _l("Legal"),
                  "other": _l("Other")},
    "goal_status": {"agreed": _l("Agreed"), "in_progress": _l("In progress"), "achieved": _l("Achieved"),
                    "dropped": _l("Dropped")},
    "event_kind": {"hearing": _l("Hearing"), "stage_change": _l("Change of stage"), "other": _l("Other")},
    "protection": {"witness_protection": _l("Witness protection"), "police_measures": _l("Police measures"),
                   "other": _l("Other")},
    "protection_status": {"requested": _l("Requested"), "granted": _l("Granted"), "denied": _l("Denied"),
                          "ended": _l("Ended")},
    "referral_status": {"sent": _l("Sent"), "accepted": _l("Accepted"), "rejected": _l("Rejected"),
                        "done": _l("Done"), "withdrawn": _l("Withdrawn"), "ended": _l("Access ended")},
    "section": {"identity": _l("Identity and contact"), "account": _l("Account of events"),
                "summary": _l("Case summary"), "psychosocial": _l("Psychosocial"), "legal": _l("Legal")},
}


def label(group: str, code: str | None) -> str:
    if not code:
        return ""
    return str(LABELS.get(group, {}).get(code, code))

