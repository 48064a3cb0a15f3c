"""The route demo loader adds steps, a shelter and pending referrals, and changes nothing the second time."""
from sqlalchemy import func, select

from caseapp.demo import route as demo_route
from caseapp.extensions import db
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep, Shelter
from tests.cases_factory import make_case


def test_demo_is_idempotent(ctx, factory):
    factory.entity("OIM")
    sw = factory.user("ana")
    for i in range(4):
        make_case(sw.id, document_number=str(1000 + i))
    demo_route.load(lambda *_: None)
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (AssistanceStep, Shelter, Referral)]
    assert counts[0] > 0 and counts[1] == 1 and counts[2] >= 1
    demo_route.load(lambda *_: None)
    assert [db.session.scalar(select(func.count()).select_from(m)) for m in (AssistanceStep, Shelter, Referral)] == counts
