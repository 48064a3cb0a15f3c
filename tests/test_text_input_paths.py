"""Free text is read by one function (services.primitives.clean_text) on every path: a NUL byte in any of the
casework's free-text fields is a clear 422 with nothing saved, as the registry's own fields were; and a family
member's document number is held to the same pattern as a victim's.
"""
from __future__ import annotations

import pytest

from caseapp.models.cases import IndirectVictim
from caseapp.models.route import AssistanceStep, CaseNote, LegalEvent, LifePlanGoal, ProtectionMeasure
from caseapp.models.safety import SafetyFlag
from tests.test_double_submit import API, _count, env  # noqa: F401 - the fixture

NUL = "Texto\x00oculto"

FREE_TEXT = {
    "note body": ("sw", "/cases/{code}/notes/psychosocial", {"body": NUL}, CaseNote),
    "step notes": ("sw", "/cases/{code}/steps", {"kind": "psychological_assessment", "status": "done",
                                                 "done_on": "2025-03-12", "notes": NUL}, AssistanceStep),
    "goal description": ("sw", "/cases/{code}/life-plan", {"area": "education", "description": NUL,
                                                           "agreed_on": "2025-03-12"}, LifePlanGoal),
    "hearing title": ("lw", "/cases/{code}/legal-events", {"kind": "hearing", "on": "2025-03-12", "title": NUL},
                      LegalEvent),
    "measure notes": ("lw", "/cases/{code}/protection-measures",
                      {"kind": "police_measures", "requested_on": "2025-03-12", "notes": NUL}, ProtectionMeasure),
    "flag reason": ("sw", "/cases/{code}/safety-flags", {"kind": "high_risk", "reason": NUL}, SafetyFlag),
    "family member's names": ("sw", "/cases/{code}/family-members", {"names": NUL, "relationship": "mother"},
                              IndirectVictim),
}


@pytest.mark.parametrize("target", list(FREE_TEXT))
def test_a_nul_byte_in_free_text_is_refused_and_nothing_is_saved(env, target):  # noqa: F811
    who, path, body, model = FREE_TEXT[target]
    r = env["app"].test_client().post(API + path.format(code=env["code"]), headers=env["t"][who], json=body)
    assert r.status_code == 422, r.get_json()
    assert "NUL" in r.get_json()["message"] and "no se guardó nada" in r.get_json()["message"]
    assert _count(env["app"], model, env["code"]) == 0


@pytest.mark.parametrize("number", ["<script>", "52 123/456", "١٢٣٤٥"])
def test_a_family_members_document_number_has_the_victims_pattern(env, number):  # noqa: F811
    r = env["app"].test_client().post(f"{API}/cases/{env['code']}/family-members", headers=env["t"]["sw"],
                                      json={"names": "Rosa", "relationship": "mother", "document_type": "CC",
                                            "document_number": number})
    assert r.status_code == 422 and "document_number" in r.get_json()["fields"], r.get_json()
    assert _count(env["app"], IndirectVictim, env["code"]) == 0
    ok = env["app"].test_client().post(f"{API}/cases/{env['code']}/family-members", headers=env["t"]["sw"],
                                       json={"names": "Rosa", "relationship": "mother", "document_type": "CC",
                                             "document_number": "52.123.456"})
    assert ok.status_code == 201, ok.get_json()
