"""Forms of the auditor's console: the GET filter form (no CSRF: it changes nothing) and the thresholds form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from caseapp.labels import LABELS
from caseapp.services.audit.alerts import LIMITS

OUTCOME_LABELS = LABELS["audit_outcome"]
DATE_HINT = _l("YYYY-MM-DD, or YYYY-MM-DDTHH:MM (Colombian time).")


class FilterForm(FlaskForm):
    """Console filters, sent in the query string: they hold usernames and case codes, never identity."""

    class Meta:
        csrf = False

    user = StringField(_l("User"), validators=[Optional()])
    entity = StringField(_l("Entity"), validators=[Optional()])
    case = StringField(_l("Case code"), validators=[Optional()])
    action = StringField(_l("Action"), validators=[Optional()])
    outcome = SelectField(_l("Outcome"), choices=[SelectChoice("", _l("Any"))]
                          + [SelectChoice(code, text) for code, text in OUTCOME_LABELS.items()],
                          validators=[Optional()])
    since = StringField(_l("From"), validators=[Optional()])
    until = StringField(_l("Until"), validators=[Optional()])


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    since = StringField(_l("From"), validators=[Optional()])
    until = StringField(_l("Until"), validators=[Optional()])


class CaseLookupForm(FlaskForm):
    class Meta:
        csrf = False

    code = StringField(_l("Case code"), validators=[InputRequired()])


def _bounded(label, key):
    low, high = LIMITS[key]
    return IntegerField(label, validators=[InputRequired(), NumberRange(min=low, max=high)])


class ThresholdsForm(FlaskForm):
    version = HiddenField()
    lookback_days = _bounded(_l("Days of log the alert list looks back over"), "lookback_days")
    many_cases_count = _bounded(_l("Distinct cases read by one user"), "many_cases_count")
    many_cases_minutes = _bounded(_l("...within this many minutes"), "many_cases_minutes")
    work_start_hour = _bounded(_l("Working hours start (hour, Colombian time)"), "work_start_hour")
    work_end_hour = _bounded(_l("Working hours end (hour, Colombian time)"), "work_end_hour")
    weekend_is_off_hours = BooleanField(_l("Saturdays and Sundays are outside working hours"))
    denied_count = _bounded(_l("Denied requests by one user or address"), "denied_count")
    denied_minutes = _bounded(_l("...within this many minutes"), "denied_minutes")
    duplicate_hits_count = _bounded(_l("Warnings that another entity holds a case, to one user within 24 hours"),
                                    "duplicate_hits_count")
    stats_burst_count = _bounded(_l("Statistics queries and downloads by one user (an alert when there are more)"),
                                 "stats_burst_count")
    stats_burst_minutes = _bounded(_l("...within this many minutes"), "stats_burst_minutes")
    submit = SubmitField(_l("Save thresholds"))
