"""Which cases a user sees is decided by one select (authz.visible_cases), built once per entity and section and
reused by the list, the search and the search's candidates (services.registry): whoever asked before her in the same
process, a user sees her own entity's cases and those referred to it, and a search by identity only those whose
referral shares it."""
from __future__ import annotations

from datetime import date

import pytest

from caseapp.errors import NotFound
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.services import referrals, registry
from tests.cases_factory import make_case


@pytest.fixture
def people(factory):
    return {"ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
            "beto": factory.user("beto", roles=("social_worker",), entity="OIM")}


def _user(people, name):
    return db.session.get(User, people[name].id)


def test_two_entities_asking_in_turn_each_see_only_their_own(ctx, people):
    ana_case = make_case(people["ana"].id, document_number="51000001")
    beto_case = make_case(people["beto"].id, document_number="51000002", given_names="Lucía")
    for _round in range(2):  # the second round reuses every statement the first one built
        for me, mine, theirs, number in (("ana", ana_case, beto_case, "51000002"),
                                         ("beto", beto_case, ana_case, "51000001")):
            user = _user(people, me)
            listed, _next = registry.list_cases(user)
            assert [c.code for c in listed] == [mine]
            assert [c.code for c in registry.search_cases(user, code=mine)] == [mine]
            assert registry.search_cases(user, code=theirs) == []
            assert registry.search_cases(user, document_type="CC", document_number=number) == []
            with pytest.raises(NotFound):
                registry.get_case(user, theirs)


def test_a_referral_that_shares_no_identity_lists_the_case_but_answers_no_search_by_identity(ctx, people):
    code = make_case(people["ana"].id, document_number="51000003", status="in_immediate_assistance",
                     intake_on=date(2025, 3, 10))
    ana, beto = _user(people, "ana"), _user(people, "beto")
    registry.give_consent(ana, code, "sharing", method="written", given_on="2025-03-10", entity_code="OIM")
    ref = referrals.send(ana, code, to_entity="OIM", service="psychological_assessment", reason="Valoración",
                         sections=["summary", "psychosocial"], due_on="2099-01-01")
    referrals.accept(beto, ref.id, version=ref.version)
    beto = _user(people, "beto")
    assert [c.code for c in registry.list_cases(beto)[0]] == [code]
    assert [c.code for c in registry.search_cases(beto, code=code)] == [code]
    assert registry.search_cases(beto, document_type="CC", document_number="51000003") == []  # identity not shared
    ana = _user(people, "ana")  # the owner, asking after her, with the statement of another entity built
    assert [c.code for c in registry.search_cases(ana, document_type="CC", document_number="51000003")] == [code]
