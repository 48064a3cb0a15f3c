"""Forms of the legal follow-up page. Every form has CSRF; a form that edits a row carries its version."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from caseapp.web.flow import SentOnce


def _date(label, required=False):
    return DateField(label, validators=[InputRequired() if required else Optional()],
                     render_kw={"autocomplete": "off"})


class OpenProceedingForm(SentOnce, FlaskForm):
    kind = SelectField(_l("Kind of proceeding"), validators=[DataRequired()])
    stage_on = _date(_l("Started on"), required=True)
    complaint_filed_on = _date(_l("Filed on"))
    receiving_office = StringField(_l("Office or authority"), validators=[Optional(), Length(max=200)])
    criminal_case_number = StringField(_l("Case or filing number"), validators=[Optional(), Length(max=60)],
                                       render_kw={"autocomplete": "off"})


class StageForm(FlaskForm):
    stage = SelectField(_l("New stage"), validators=[DataRequired()])
    on = _date(_l("Date of the change"), required=True)
    version = HiddenField()


class HearingForm(SentOnce, FlaskForm):
    proceeding = SelectField(_l("Proceeding"), validators=[DataRequired()])
    on = _date(_l("Date of the hearing"), required=True)
    title = StringField(_l("Hearing or event"), validators=[Optional(), Length(max=120)])


class OutcomeForm(FlaskForm):
    outcome = TextAreaField(_l("Outcome"), validators=[DataRequired(), Length(max=2000)])
    next_on = _date(_l("Next hearing"))
    version = HiddenField()


class NewMeasureForm(SentOnce, FlaskForm):
    kind = SelectField(_l("Protection measure"), validators=[DataRequired()])
    requested_on = _date(_l("Requested on"), required=True)
    notes = StringField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), validators=[DataRequired()])
    decided_on = _date(_l("Decided on"), required=True)
    authority = StringField(_l("Deciding authority"), validators=[Optional(), Length(max=200)])
    version = HiddenField()


class EndForm(FlaskForm):
    ended_on = _date(_l("Ended on"), required=True)
    version = HiddenField()
