"""Assistance route: steps, step kinds, due-date rules, life plan, shelters, legal follow-up (issue 4).

Free text about a victim (notes, reasons, titles, offices, who decided, the criminal case number) is encrypted
under her data key, so erasing her identity (destroying the key) erases it too;
catalogues (step kinds, due-date rules) are admin-editable rows, never hard-coded enums.
"""
from __future__ import annotations

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.crypto import Encrypted, new_uid
from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.base import Timestamped, UnderVictimKey, Versioned
from caseapp.models.cases import Case

PHASES = ("immediate", "mediate")
STEP_STATUSES = ("planned", "in_progress", "done", "not_provided")
OPEN_STEP_STATUSES = ("planned", "in_progress")
# Which need-to-know section a step kind's notes belong to (DESIGN.md section 5).
STEP_SECTIONS = ("psychosocial", "legal")
NOTE_SECTIONS = ("psychosocial", "legal")
GOAL_AREAS = ("health", "education", "employment", "income", "housing", "family", "legal", "other")
GOAL_STATUSES = ("agreed", "in_progress", "achieved", "dropped")
LEGAL_STAGES = ("complaint", "inquiry", "investigation", "trial", "judgment", "closed")
LEGAL_REPRESENTATION = ("none", "public_defender", "entity_lawyer", "private_lawyer", "other")
LEGAL_EVENT_KINDS = ("hearing", "stage_change", "other")
PROTECTION_KINDS = ("witness_protection", "police_measures", "other")
PROTECTION_STATUSES = ("requested", "granted", "denied", "ended")
# Legal follow-up (issue 13): several proceedings per case, each kind with its own stages (the criminal one keeps
# LEGAL_STAGES). Codes fit String(16); their labels are in labels.py ("proceeding_kind", "stage_<kind>").
PROCEEDING_KINDS = ("criminal", "protection_action", "migratory", "reparation")
PROCEEDING_STAGES = {
    "criminal": LEGAL_STAGES,
    "protection_action": ("filed", "admitted", "first_ruling", "challenged", "second_ruling", "compliance", "closed"),
    "migratory": ("requested", "in_process", "granted", "denied", "closed"),  # PEP/PPT for a foreign victim
    "reparation": ("requested", "opened", "conciliation", "evidence", "ruling", "closed"),
}
# A measure's life: requested -> granted | denied; granted -> ended (the one owner: services.casework.measures).
MEASURE_TRANSITIONS = {"requested": ("granted", "denied"), "granted": ("ended",), "denied": (), "ended": ()}
# Why a closed case is reopened: a catalogue code (the access log may hold it), with an optional encrypted note.
REOPEN_REASONS = ("needs_assistance_again", "new_risk", "closed_in_error", "other")


class StepKind(Versioned, Timestamped, db.Model):
    """A kind of assistance action (catalogue editable by an admin, seeded from Decree 1066 and seed 003)."""

    __tablename__ = "step_kinds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    phase: Mapped[str] = mapped_column(String(16), nullable=False)
    section: Mapped[str] = mapped_column(String(16), nullable=False, default="psychosocial")
    label_es: Mapped[str] = mapped_column(String(200), nullable=False)
    label_en: Mapped[str] = mapped_column(String(200), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Case roles that may record a step of this kind (comma-separated): legal orientation in the immediate
    # phase is given by the social worker or by the lawyer (seed 003).
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False, default="social_worker")
    # Sections a referral for this service must share, at least one of them besides the summary
    # (comma-separated; empty: the summary is enough).
    referral_sections: Mapped[str] = mapped_column(String(100), nullable=False, default="")

    def label(self, locale: str | None = None) -> str:
        return self.label_en if (locale or "").startswith("en") else self.label_es

    @property
    def recorder_roles(self) -> frozenset[str]:
        return frozenset(r for r in self.recorded_by.split(",") if r)

    @property
    def needed_sections(self) -> frozenset[str]:
        return frozenset(s for s in self.referral_sections.split(",") if s)


class DueRule(Versioned, Timestamped, db.Model):
    """The legal durations of the phases, in force between two dates (a case uses the rule of its intake date)."""

    __tablename__ = "due_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date, unique=True, nullable=False)
    effective_to: Mapped[date | None] = mapped_column(Date)
    immediate_days: Mapped[int] = mapped_column(Integer, nullable=False)
    immediate_extension_days: Mapped[int] = mapped_column(Integer, nullable=False)
    mediate_months: Mapped[int] = mapped_column(Integer, nullable=False)
    mediate_extension_months: Mapped[int] = mapped_column(Integer, nullable=False)
    max_extensions: Mapped[int] = mapped_column(Integer, nullable=False, default=1)  # per phase
    legal_source: Mapped[str] = mapped_column(String(300), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


class CaseRoute(UnderVictimKey, Versioned, Timestamped, db.Model):
    """Route facts of a case that the registry does not hold: the entry into the mediate phase."""

    __tablename__ = "case_routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True, nullable=False)
    complaint_on: Mapped[date | None] = mapped_column(Date)  # criminal complaint (needed for the mediate phase)
    acta_on: Mapped[date | None] = mapped_column(Date)  # "acta única" of objectives and commitments
    acta_summary_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    immediate_closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    acta_summary = Encrypted("acta_summary")
    case: Mapped[Case] = relationship()


class AssistanceStep(UnderVictimKey, Versioned, Timestamped, db.Model):
    __tablename__ = "assistance_steps"
    __table_args__ = (
        Index("ix_steps_case_phase", "case_id", "phase"),
        Index("ix_steps_status_planned", "status", "planned_on"),
        # Indicators ("victims attended": steps done in a period), read from the index alone.
        Index("ix_steps_status_done", "status", "done_on", "case_id"),
        Index("ix_steps_case_status_done", "case_id", "status", "done_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    phase: Mapped[str] = mapped_column(String(16), nullable=False)
    kind_id: Mapped[int] = mapped_column(ForeignKey("step_kinds.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="planned")
    planned_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    provider_entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    professional_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    not_provided_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    notes = Encrypted("notes")
    not_provided_reason = Encrypted("not_provided_reason")

    case: Mapped[Case] = relationship()
    kind: Mapped[StepKind] = relationship(lazy="joined")
    provider_entity: Mapped[Entity | None] = relationship(foreign_keys=[provider_entity_id], lazy="joined")
    professional: Mapped[User | None] = relationship(foreign_keys=[professional_id])


class PhaseExtension(UnderVictimKey, Versioned, db.Model):
    """An extension of a phase: once per phase, with its reason and who decided it."""

    __tablename__ = "phase_extensions"
    __table_args__ = (UniqueConstraint("case_id", "phase"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    phase: Mapped[str] = mapped_column(String(16), nullable=False)
    extra_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    extra_months: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    decided_on: Mapped[date] = mapped_column(Date, nullable=False)
    # Who decided (e.g. the committee, the secretariat): free text can name a person, so it is encrypted.
    decided_by_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    reported_to_secretariat: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    reason = Encrypted("reason")
    decided_by = Encrypted("decided_by")
    case: Mapped[Case] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class LifePlanGoal(UnderVictimKey, Versioned, Timestamped, db.Model):
    """A goal of the life plan (proyecto de vida), agreed with the victim and reviewed in the mediate phase."""

    __tablename__ = "life_plan_goals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    area: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="agreed")
    agreed_on: Mapped[date] = mapped_column(Date, nullable=False)
    target_on: Mapped[date | None] = mapped_column(Date)
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    description_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    review_note_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    description = Encrypted("description")
    review_note = Encrypted("review_note")
    case: Mapped[Case] = relationship()


class Shelter(Versioned, Timestamped, db.Model):
    """A shelter (casa de acogida). Its address is deliberately not stored: locations are kept off the system."""

    __tablename__ = "shelters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    city: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    operator_entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    operator_entity: Mapped[Entity] = relationship(lazy="joined")


class ShelterStay(Versioned, db.Model):
    """A stay in a shelter; it is also a lodging step of the case."""

    __tablename__ = "shelter_stays"
    __table_args__ = (Index("ix_stays_shelter_open", "shelter_id", "left_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id"), nullable=False)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("assistance_steps.id"), nullable=False, unique=True)
    admitted_on: Mapped[date] = mapped_column(Date, nullable=False)
    left_on: Mapped[date | None] = mapped_column(Date)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    shelter: Mapped[Shelter] = relationship(lazy="joined")
    case: Mapped[Case] = relationship()
    step: Mapped[AssistanceStep] = relationship()

    def end(self, on: date) -> None:
        """She left the shelter on `on`: the stay ends and its lodging step is done that day."""
        self.left_on = on
        self.step.status, self.step.done_on = "done", on


class LegalProceeding(UnderVictimKey, Versioned, Timestamped, db.Model):
    """A proceeding of a case (criminal, protection action, migratory regularisation, reparation incident): complaint,
    stage, representation (lawyers write, social workers read). `stage` is written only by
    services.casework.proceedings.change_stage, in step with its history (LegalStageChange)."""

    __tablename__ = "legal_proceedings"
    __table_args__ = (
        # One criminal proceeding per case, held by the database (a partial unique index, migration 0020): two
        # requests opening it at once cannot both succeed (services.casework.proceedings answers 409).
        Index("uq_legal_proceedings_criminal", "case_id", unique=True, sqlite_where=text("kind = 'criminal'"),
              postgresql_where=text("kind = 'criminal'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False, default="criminal")
    complaint_filed_on: Mapped[date | None] = mapped_column(Date)
    receiving_office_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # a small office can point to her
    criminal_case_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    stage: Mapped[str] = mapped_column(String(16), nullable=False, default="complaint")
    representation: Mapped[str] = mapped_column(String(24), nullable=False, default="none")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    criminal_case_number = Encrypted("criminal_case_number")
    receiving_office = Encrypted("receiving_office")
    case: Mapped[Case] = relationship()


class LegalEvent(UnderVictimKey, Versioned, db.Model):
    """A hearing or another event of the criminal process, with its outcome."""

    __tablename__ = "legal_events"
    __table_args__ = (Index("ix_legal_events_case_on", "case_id", "on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    # The proceeding it belongs to (empty only for an event recorded before a case had any proceeding).
    proceeding_id: Mapped[int | None] = mapped_column(ForeignKey("legal_proceedings.id", ondelete="CASCADE"),
                                                      index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="hearing")
    on: Mapped[date] = mapped_column(Date, nullable=False)
    next_on: Mapped[date | None] = mapped_column(Date)  # the next hearing, set with the outcome
    # "AUDIENCIA ... contra <nombre>": a title names people, so it is encrypted like the outcome.
    title_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    outcome_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    title = Encrypted("title")
    outcome = Encrypted("outcome")
    case: Mapped[Case] = relationship()
    proceeding: Mapped[LegalProceeding | None] = relationship()


class ProtectionMeasure(UnderVictimKey, Versioned, db.Model):
    """A protection measure requested for the victim (witness protection, police measures)."""

    __tablename__ = "protection_measures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="requested")
    requested_on: Mapped[date] = mapped_column(Date, nullable=False)
    decided_on: Mapped[date | None] = mapped_column(Date)
    # The deciding authority: a small office can point to her, so it is encrypted.
    decided_by_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    ended_on: Mapped[date | None] = mapped_column(Date)
    notes_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    notes = Encrypted("notes")
    decided_by = Encrypted("decided_by")
    case: Mapped[Case] = relationship()


class CaseNote(UnderVictimKey, Versioned, db.Model):
    """A follow-up note in one need-to-know section: psychosocial (social workers) or legal (lawyers)."""

    __tablename__ = "case_notes"
    __table_args__ = (Index("ix_case_notes_case_section", "case_id", "section"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    section: Mapped[str] = mapped_column(String(16), nullable=False)
    written_on: Mapped[date] = mapped_column(Date, nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    body = Encrypted("body")
    case: Mapped[Case] = relationship()
    author: Mapped[User | None] = relationship()


class CaseClosure(UnderVictimKey, Versioned, db.Model):
    """One closure of a case and, if it happened, its reopening: the history is kept, never overwritten."""

    __tablename__ = "case_closures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    closed_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    status_before: Mapped[str] = mapped_column(String(32), nullable=False)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    reopened_on: Mapped[date | None] = mapped_column(Date)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopen_code: Mapped[str | None] = mapped_column(String(32))  # one of REOPEN_REASONS
    reopen_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    note = Encrypted("note")
    reopen_reason = Encrypted("reopen_reason")  # the optional note that goes with reopen_code
    case: Mapped[Case] = relationship()
