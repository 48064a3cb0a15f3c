"""Forms of the route screens. Every form has CSRF; forms that edit a row carry its version."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from caseapp.web.flow import SentOnce


def _date(label, required=False):
    return DateField(label, validators=[InputRequired() if required else Optional()],
                     render_kw={"autocomplete": "off"})


class StepForm(SentOnce, FlaskForm):
    kind = SelectField(_l("Kind of step"), validators=[DataRequired()])
    status = SelectField(_l("Status"), validators=[DataRequired()])
    planned_on = _date(_l("Planned date"))
    done_on = _date(_l("Date done"))
    provider_entity = SelectField(_l("Provider entity"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    not_provided_reason = StringField(_l("Reason it was not provided"), validators=[Optional(), Length(max=500)])
    version = HiddenField()


class StepUpdateForm(FlaskForm):
    status = SelectField(_l("Status"), validators=[DataRequired()])
    done_on = _date(_l("Date done"))
    not_provided_reason = StringField(_l("Reason it was not provided"), validators=[Optional(), Length(max=500)])
    version = HiddenField()


class CloseImmediateForm(FlaskForm):
    closed_on = _date(_l("End of immediate assistance"), required=True)
    complaint_on = _date(_l("Criminal complaint filed on"))
    acta_on = _date(_l("Agreed record of objectives and commitments (acta única) signed on"))
    acta_summary = TextAreaField(_l("Objectives and commitments agreed"), validators=[Optional(), Length(max=4000)])
    version = HiddenField()


class ExtensionForm(SentOnce, FlaskForm):
    phase = HiddenField()
    amount = IntegerField(_l("Extension"), validators=[InputRequired(), NumberRange(min=1, max=12)])
    reason = TextAreaField(_l("Reason for the extension"), validators=[DataRequired(), Length(max=2000)])
    decided_by = StringField(_l("Decided by"), validators=[DataRequired(), Length(max=200)])
    decided_on = _date(_l("Decided on"), required=True)
    reported = BooleanField(_l("Reported to the committee's technical secretariat"))
    version = HiddenField()


class GoalForm(SentOnce, FlaskForm):
    area = SelectField(_l("Area"), validators=[DataRequired()])
    description = TextAreaField(_l("Goal agreed with the victim"), validators=[DataRequired(), Length(max=2000)])
    agreed_on = _date(_l("Agreed on"), required=True)
    target_on = _date(_l("Target date"))


class GoalReviewForm(FlaskForm):
    status = SelectField(_l("Status"), validators=[DataRequired()])
    review_note = StringField(_l("Review note"), validators=[Optional(), Length(max=2000)])
    version = HiddenField()


class NoteForm(SentOnce, FlaskForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=4000)])
    written_on = _date(_l("Date"), required=True)


class ProceedingForm(FlaskForm):
    complaint_filed_on = _date(_l("Complaint filed on"))
    receiving_office = StringField(_l("Office that received the complaint"), validators=[Optional(), Length(max=200)])
    criminal_case_number = StringField(_l("Criminal case number (SPOA)"), validators=[Optional(), Length(max=60)],
                                       render_kw={"autocomplete": "off"})
    stage = SelectField(_l("Stage of the criminal process"), validators=[DataRequired()])
    representation = SelectField(_l("Legal representation"), validators=[DataRequired()])
    version = HiddenField()


class LegalEventForm(SentOnce, FlaskForm):
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    on = _date(_l("Date"), required=True)
    title = StringField(_l("Hearing or event"), validators=[Optional(), Length(max=120)])
    outcome = TextAreaField(_l("Outcome"), validators=[Optional(), Length(max=2000)])


class MeasureForm(SentOnce, FlaskForm):
    kind = SelectField(_l("Protection measure"), validators=[DataRequired()])
    status = SelectField(_l("Status"), validators=[DataRequired()])
    requested_on = _date(_l("Requested on"), required=True)
    decided_on = _date(_l("Decided on"))
    notes = StringField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class ClosureForm(FlaskForm):
    reason = SelectField(_l("Closure reason"), validators=[DataRequired()])
    closed_on = _date(_l("Closed on"), required=True)
    note = TextAreaField(_l("Closure note"), validators=[Optional(), Length(max=2000)])
    version = HiddenField()


class ReopenForm(FlaskForm):
    reason = SelectField(_l("Why is the case reopened?"), validators=[DataRequired()])
    note = TextAreaField(_l("Reopening note"), validators=[Optional(), Length(max=2000)])
    version = HiddenField()


class PlaceForm(SentOnce, FlaskForm):
    shelter_id = SelectField(_l("Shelter"), validators=[DataRequired()])
    admitted_on = _date(_l("Admitted on"), required=True)


class LeaveForm(FlaskForm):
    left_on = _date(_l("Left on"), required=True)
    version = HiddenField()


class ShelterForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=24)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=80)])
    operator_entity = SelectField(_l("Operating entity"), validators=[DataRequired()])
    capacity = IntegerField(_l("Beds"), validators=[InputRequired(), NumberRange(min=1, max=1000)])


class RuleForm(FlaskForm):
    effective_from = _date(_l("In force from"), required=True)
    immediate_days = IntegerField(_l("Immediate assistance: calendar days"), validators=[InputRequired(),
                                                                                           NumberRange(min=1, max=365)])
    immediate_extension_days = IntegerField(_l("Immediate assistance: extension up to (days)"),
                                            validators=[InputRequired(), NumberRange(min=0, max=365)])
    mediate_months = IntegerField(_l("Mediate assistance: months"), validators=[InputRequired(),
                                                                                NumberRange(min=1, max=60)])
    mediate_extension_months = IntegerField(_l("Mediate assistance: extension up to (months)"),
                                            validators=[InputRequired(), NumberRange(min=0, max=60)])
    legal_source = StringField(_l("Legal source"), validators=[DataRequired(), Length(max=300)])


class StepKindForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    phase = SelectField(_l("Phase"), validators=[DataRequired()])
    section = SelectField(_l("Section of its notes"), validators=[DataRequired()])
    label_es = StringField(_l("Spanish label"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(_l("English label"), validators=[DataRequired(), Length(max=200)])


class StepKindToggleForm(FlaskForm):
    version = HiddenField()


class ClosurePolicyForm(FlaskForm):
    policy = SelectField(_l("With an open shelter stay, closing a case"), validators=[DataRequired()])
    version = HiddenField()


class TableListForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter: no state change

    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(), Length(max=7)])
