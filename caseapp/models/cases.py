"""Cases (one attention episode of one victim, owned by an entity), their screening, consents and purposes."""
from __future__ import annotations

import json
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship
from sqlalchemy.sql.functions import FunctionElement

from caseapp.crypto import Encrypted, new_uid
from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.base import Timestamped, UnderVictimKey, Versioned
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.models.victims import Victim

CASE_STATUSES = ("identified", "in_immediate_assistance", "in_mediate_assistance", "closed")
CLOSURE_REASONS = ("goals_met", "voluntary_withdrawal", "transferred", "lost_contact", "death", "other")
IDENTIFICATION_SOURCES = (
    "coat", "fiscalia", "policia", "migracion", "icbf", "health", "ngo", "self_referral", "other",
)
TRAFFICKING_SCOPES = ("internal", "external")
VICTIM_STATUSES = ("victim", "possible_victim")
# HTCDS "methods of control" value list (vic_MethodsOfControl of the Human Trafficking Case Data Standard).
CONTROL_METHODS = (
    "debt_bondage", "takes_earnings", "restricts_financial_access", "threats", "psychological_abuse",
    "physical_abuse", "sexual_abuse", "false_promises", "psychoactive_substances", "restricts_movement",
    "restricts_medical_care", "excessive_working_hours", "uses_children", "threat_of_law_enforcement",
    "withholds_necessities", "withholds_documents", "other",
)
# Codes of Ruta's first list that HTCDS does not have, and the HTCDS code each now counts as: the one mapping,
# read by validation (an old client's code is accepted as its HTCDS code) and the labels; migration 0019 holds a
# frozen copy to rewrite the stored codes.
CONTROL_METHODS_FORMER = {"threats_to_family": "threats", "isolation": "restricts_movement"}
# HTCDS vic_MethodOfRecruitment (one per case here: the main one).
RECRUITMENT_METHODS = (
    "abduction", "educational_facility", "familial", "internet", "international_marriage_broker",
    "intimate_partner", "job_offer", "posing_as_benefactor", "public_area", "offer_of_accommodation", "shelter",
    "smuggling_ransom", "work", "other", "unknown",
)
CONSENT_KINDS = ("assistance", "data_processing", "sharing")
CONSENT_METHODS = ("written", "verbal_witnessed", "digital", "legal_representative", "child_protection_authority")
SCREENING_ACTS = ("recruitment", "transport", "transfer", "harbouring", "receipt")
SCREENING_MEANS = (
    "threat", "force", "coercion", "abduction", "fraud", "deception", "abuse_of_power",
    "abuse_of_vulnerability", "payments_or_benefits", "none_identified",
)

case_purposes = db.Table(
    "case_purposes",
    db.Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    db.Column("purpose_id", ForeignKey("exploitation_purposes.id"), primary_key=True),
)


class Case(Versioned, Timestamped, db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_owner_status", "owner_entity_id", "status"),
        # the case list's own cases, newest first, a page at a time (authz.newest_visible_cases)
        Index("ix_cases_owner_id", "owner_entity_id", "id"),
        # Led by the date the anonymised counts go by, then the clear statistical columns they group on, so that
        # a count reads the index alone (covering), never the wide case rows. A year of linked cases (product 3.5)
        # also needs its victims; a count of every case by a victim's column reads the table in id order, which
        # follows the victims' order, so victim_id is left out of the identification-date index on purpose.
        Index("ix_cases_linked_on", "linked_on", "owner_entity_id", "trafficking_scope", "status", "victim_id"),
        Index("ix_cases_identified_on", "identified_on", "owner_entity_id", "trafficking_scope", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id"), nullable=False, index=True)
    owner_entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    status: Mapped[str] = mapped_column(String(32), nullable=False, default="identified")
    identified_on: Mapped[date] = mapped_column(Date, nullable=False)
    identification_source: Mapped[str] = mapped_column(String(24), nullable=False)
    intake_on: Mapped[date | None] = mapped_column(Date)  # start of immediate assistance
    immediate_closed_on: Mapped[date | None] = mapped_column(Date)
    linked_on: Mapped[date | None] = mapped_column(Date)  # vinculación: counts for product 3.5
    closed_on: Mapped[date | None] = mapped_column(Date)
    closure_reason: Mapped[str | None] = mapped_column(String(32))
    trafficking_scope: Mapped[str] = mapped_column(String(16), nullable=False)
    victim_status: Mapped[str] = mapped_column(String(24), nullable=False, default="possible_victim")
    is_child: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    child_referral_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    declined_assistance: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    declined_reasons_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    control_methods: Mapped[str] = mapped_column(String(500), nullable=False, default="")  # comma-separated codes
    # Places, coarse and never an address: DIVIPOLA municipality codes (5 digits), the destination country of
    # external trafficking (ISO 3166-1 alpha-2) and the HTCDS recruitment method (services.registry.places).
    identification_municipality: Mapped[str | None] = mapped_column(String(5))
    recruitment_municipality: Mapped[str | None] = mapped_column(String(5))
    exploitation_municipality: Mapped[str | None] = mapped_column(String(5))
    destination_country: Mapped[str | None] = mapped_column(String(2))
    recruitment_method: Mapped[str | None] = mapped_column(String(32))
    # Keyed hash of the registering user's one-time form token (or API Idempotency-Key): a resent form
    # finds the case it already created instead of creating a second one, even when both arrive at once.
    registration_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    declined_reasons = Encrypted("declined_reasons")

    victim: Mapped[Victim] = relationship(lazy="joined")
    owner_entity: Mapped[Entity] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    purposes: Mapped[list[ExploitationPurpose]] = relationship(secondary=case_purposes, lazy="selectin")
    consents: Mapped[list[Consent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Consent.id"
    )
    screening: Mapped[IdentificationScreening | None] = relationship(
        back_populates="case", cascade="all, delete-orphan", uselist=False
    )
    indirect_victims: Mapped[list[IndirectVictim]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="IndirectVictim.id"
    )
    # Safety flags in force (models.safety; history in the same table): lists load them with selectinload.
    safety_flags: Mapped[list[SafetyFlag]] = relationship(  # noqa: F821 (models.safety imports this module)
        primaryjoin="and_(SafetyFlag.case_id == Case.id, SafetyFlag.cleared_at.is_(None))",
        viewonly=True, order_by="SafetyFlag.id")

    def _encryption_key(self) -> bytes:
        return self.victim._encryption_key()

    @property
    def control_method_list(self) -> list[str]:
        return [c for c in self.control_methods.split(",") if c]

    def active_consent(self, kind: str, entity_id: int | None = None) -> Consent | None:
        for consent in self.consents:
            if consent.kind == kind and consent.withdrawn_on is None and (
                kind != "sharing" or consent.entity_id == entity_id
            ):
                return consent
        return None


class JsonRows(FunctionElement):
    """The rows given as one JSON array of arrays, as text: json_group_array on SQLite, json_agg on PostgreSQL (NULL
    there when there is no row). Text, parsed once by its reader (`JsonRows.parse`): a case's statement joins its
    consents and safety flags, so the value comes once a joined row, and a JSON type would parse it each time."""

    type = String()
    name = "json_rows"
    inherit_cache = True

    @staticmethod
    def parse(value: str | None) -> list:
        return json.loads(value) if value else []


@compiles(JsonRows)  # SQLite, and SQLAlchemy's own look at a statement (its generic compiler)
def _json_rows_sqlite(element, compiler, **kw):
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(JsonRows, "postgresql")
def _json_rows_postgresql(element, compiler, **kw):
    return f"CAST(json_agg(json_build_array({compiler.process(element.clauses, **kw)})) AS TEXT)"


# The case's purposes as [[id, code, label_es, label_en], ...], a column of the case's own statement where a page
# asks for it (undefer): the case page's purposes were a statement of their own (a selectin load, Case.purposes),
# whose objects cost more than the statement. Read through services.registry.shown_purposes; written through
# Case.purposes, as before.
Case.purposes_shown = column_property(
    select(JsonRows(ExploitationPurpose.id, ExploitationPurpose.code, ExploitationPurpose.label_es,
                        ExploitationPurpose.label_en))
    .select_from(case_purposes.join(ExploitationPurpose, ExploitationPurpose.id == case_purposes.c.purpose_id))
    .where(case_purposes.c.case_id == Case.id)
    .correlate_except(case_purposes, ExploitationPurpose)
    .scalar_subquery(),
    deferred=True,
)


# The entities a consent to share the case may name (every active one but its owner) as [[code, name], ...], a
# column of the case page's own statement (undefer): its consent form lists them at every view, and on their own
# they were a statement (a round trip on PostgreSQL). Read through services.registry.consents.sharing_entities.
Case.sharing_entities_shown = column_property(
    select(JsonRows(Entity.code, Entity.name))
    .where(Entity.active.is_(True), Entity.id != Case.owner_entity_id)
    .correlate_except(Entity)
    .scalar_subquery(),
    deferred=True,
)


@event.listens_for(Case.purposes, "append")
@event.listens_for(Case.purposes, "remove")
def _purposes_changed(case, *_args):
    case.__dict__.pop("purposes_shown", None)  # shown from Case.purposes, as changed, from now on


# Case.status has one writer, the case lifecycle (services.route.lifecycle): it writes inside status_writer(),
# and any other write of the attribute is refused here, whichever path it comes from.
_STATUS_WRITER: ContextVar[bool] = ContextVar("case_status_writer", default=False)


@contextmanager
def status_writer():
    token = _STATUS_WRITER.set(True)
    try:
        yield
    finally:
        _STATUS_WRITER.reset(token)


@event.listens_for(Case.status, "set")
def _only_the_lifecycle_writes_status(case, value, old, _initiator):
    new_case = case.id is None and value == "identified"  # every case is born identified
    if not (_STATUS_WRITER.get() or new_case or value == old):
        raise RuntimeError("Case.status is written only by the case lifecycle (services.route.lifecycle)")


class CaseCounter(db.Model):
    """The last case number per entity and year, for codes ENTITY-YEAR-NNNNN."""

    __tablename__ = "case_counters"

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class IdentificationScreening(UnderVictimKey, Versioned, db.Model):
    """The three Palermo elements: act, means, purpose (means are not required for a child)."""

    __tablename__ = "identification_screenings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True, nullable=False)
    acts: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    means: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    purpose_present: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    screened_on: Mapped[date] = mapped_column(Date, nullable=False)
    screened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    notes = Encrypted("notes")
    case: Mapped[Case] = relationship(back_populates="screening")


class Consent(UnderVictimKey, Versioned, db.Model):
    """A consent kept as proof: who took it, how, when; withdrawable, never deleted."""

    __tablename__ = "consents"
    # Product 3.5 asks, per linked case, for an assistance consent given by a date and not withdrawn by then, and
    # authz asks for a sharing consent in force: both answered from the index alone.
    __table_args__ = (Index("ix_consents_case_kind_in_force", "case_id", "kind", "given_on", "withdrawn_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))  # for sharing
    given_on: Mapped[date] = mapped_column(Date, nullable=False)
    method: Mapped[str] = mapped_column(String(32), nullable=False)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    representative_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # child: who authorised
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    representative = Encrypted("representative")
    case: Mapped[Case] = relationship(back_populates="consents")
    # joined: every page that shows a case's consents names their entity (one statement, not one per consent)
    entity: Mapped[Entity | None] = relationship(foreign_keys=[entity_id], lazy="joined")
    taken_by: Mapped[User | None] = relationship(foreign_keys=[taken_by_id])


# Family members who also receive assistance (indirect victims, Law 985): their relationship to the victim.
RELATIONSHIPS = ("mother", "father", "partner", "child", "sibling", "grandparent", "other_relative", "other")


class IndirectVictim(UnderVictimKey, Versioned, db.Model):
    """A family member who also receives assistance (services.family): identity under the victim's key."""

    __tablename__ = "indirect_victims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    relationship_kind: Mapped[str] = mapped_column(String(24), nullable=False)
    age_group: Mapped[str] = mapped_column(String(8), nullable=False, default="unknown")
    names_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_type_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime | None] = mapped_column(DateTime)

    names = Encrypted("names")
    document_type = Encrypted("document_type")
    document_number = Encrypted("document_number")
    case: Mapped[Case] = relationship(back_populates="indirect_victims")


class ErasureRequest(Versioned, db.Model):
    """Crypto-shredding of a victim's identity: requested by staff, approved by an admin."""

    __tablename__ = "erasure_requests"
    __table_args__ = (UniqueConstraint("case_id", "requested_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    case: Mapped[Case] = relationship()
