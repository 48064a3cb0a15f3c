"""E-mail of notifications against a real SMTP server started by the test (aiosmtpd): it says only that there is
news and links to the notifications page — no case code, no name, no entity — and a server that is down loses
nothing: the next run sends it, once."""
from __future__ import annotations

import json
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.cases import Case, Consent
from caseapp.models.notifications import MailOutbox
from caseapp.services import notifications, referrals
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback, and the app pointed at it (plain SMTP: no STARTTLS on loopback)."""
    inbox, port = Inbox(), _free_port()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, SMTP_FROM="ruta@ruta.test",
                      BASE_URL="https://ruta.example.gov.co")
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.controller = controller
    yield inbox
    if controller._thread is not None:
        controller.stop()


@pytest.fixture
def people(factory):
    return {"ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
            "beto": factory.user("beto", roles=("social_worker",), entity="OIM"),
            "bea": factory.user("bea", roles=("lawyer",), entity="OIM"),
            "carla": factory.user("carla", roles=("social_worker",), entity="FGN")}


def _addresses(app, people, **addresses):
    with app.test_request_context():
        for name, address in addresses.items():
            notifications.set_email(None, people[name].username, address)


def _refer(app, people, number="52123456") -> str:
    """Ana refers a case of hers to OIM (with the victim's consent): OIM's professionals are notified."""
    with app.test_request_context():
        code = make_case(people["ana"].id, document_number=number)
        case = db.session.scalar(select(Case).where(Case.code == code))
        oim = db.session.scalar(select(Entity).where(Entity.code == "OIM"))
        case.consents.append(Consent(kind="sharing", entity_id=oim.id, given_on=case.identified_on,
                                     method="written", taken_by_id=people["ana"].id, recorded_at=utcnow()))
        db.session.commit()
        referrals.send(db.session.get(User, people["ana"].id), code, to_entity="OIM",
                       service="psychological_assessment", reason="Valoración", sections=["summary", "psychosocial"])
        return code


def _deliver(app) -> dict:
    with app.app_context():
        return notifications.deliver_mail()


def test_the_message_arrives_and_says_nothing_but_that_there_is_news(app, smtp, people):
    _addresses(app, people, beto="beto@correo.example.org", carla="carla@correo2.example.org")
    code = _refer(app, people)
    assert _deliver(app)["sent"] == 1
    [(sender, recipients, raw)] = smtp.messages
    assert sender == "ruta@ruta.test" and recipients == ["beto@correo.example.org"]  # not carla, nor bea (no address)
    text = raw.decode()
    assert "Tiene una novedad en Ruta." in text and "https://ruta.example.gov.co/notifications/" in text
    assert "Subject: Novedad en Ruta" in text
    year_seq = code.split("-", 1)[1]
    for secret in (code, year_seq, "SDIS", "OIM", "Mariana", "Pérez", "Valoración", "psycholog", "remisi"):
        assert secret.lower() not in text.lower(), secret


def test_many_notifications_before_a_run_make_one_message(app, smtp, people):
    _addresses(app, people, beto="beto@correo.example.org")
    _refer(app, people, "60000001")
    _refer(app, people, "60000002")
    assert _deliver(app)["sent"] == 1 and len(smtp.messages) == 1
    _refer(app, people, "60000003")  # after the run: a new message
    assert _deliver(app)["sent"] == 1 and len(smtp.messages) == 2


def test_a_server_down_loses_nothing_and_the_retry_sends_once(app, smtp, people, runner):
    _addresses(app, people, beto="beto@correo.example.org")
    smtp.controller.stop()  # the mail server is down when the referral is sent
    _refer(app, people)
    r = runner.invoke(args=["notifications", "mail"])
    assert r.exit_code == 0 and json.loads(r.output)["failed"] == 1
    with app.app_context():
        [row] = db.session.scalars(select(MailOutbox)).all()
        assert row.sent_at is None and row.attempts == 1 and row.last_error
    controller = Controller(smtp, hostname="127.0.0.1", port=app.config["SMTP_PORT"])
    controller.start()
    try:
        for _run in range(2):
            r = runner.invoke(args=["notifications", "mail"])
            assert r.exit_code == 0, r.output
    finally:
        controller.stop()
    assert len(smtp.messages) == 1
    with app.app_context():
        [row] = db.session.scalars(select(MailOutbox)).all()
        assert row.sent_at is not None and row.attempts == 2


def test_without_an_smtp_server_configured_nothing_is_queued(app, people):
    _addresses(app, people, beto="beto@correo.example.org")
    _refer(app, people)
    with app.app_context():
        assert db.session.scalars(select(MailOutbox)).all() == []
        assert notifications.deliver_mail()["sent"] == 0


@pytest.mark.parametrize("address", ["beto@correo.example.org\nBcc: x@evil.example", "no-at-sign",
                                     "a@b", "<beto@correo.example.org>", "x" * 250 + "@oim.example.org"])
def test_an_address_that_could_split_a_header_is_refused(app, people, address):
    with app.test_request_context(), pytest.raises(Invalid):
        notifications.set_email(None, "beto", address)
    with app.app_context():
        assert db.session.get(User, people["beto"].id).email is None


def test_the_operator_sets_an_address_from_the_command_line(app, runner, people):
    r = runner.invoke(args=["notifications", "email", "beto", "beto@correo.example.org"])
    assert r.exit_code == 0, r.output
    with app.app_context():
        assert db.session.get(User, people["beto"].id).email == "beto@correo.example.org"
    assert runner.invoke(args=["notifications", "email", "beto", "no"]).exit_code == 1
