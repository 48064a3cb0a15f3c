from caseapp.extensions import db
from caseapp.models.cases import Case
from tests.cases_factory import make_case


def test_make_case_encrypts_and_codes(factory, ctx):
    u = factory.user("ana")
    code = make_case(u.id)
    assert code == "SDIS-2025-00001"
    case = db.session.query(Case).filter_by(code=code).one()
    assert case.victim.given_names == "Mariana"
    assert case.victim.given_names_enc and b"Mariana" not in case.victim.given_names_enc
    assert [p.code for p in case.purposes] == ["sexual_exploitation"]
