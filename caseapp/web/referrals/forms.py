"""Referral forms (CSRF on every one; answers carry the referral's version)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional

from caseapp.web.flow import SentOnce


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SendForm(SentOnce, FlaskForm):
    to_entity = SelectField(_l("Refer to"), validators=[DataRequired()])
    service = SelectField(_l("Service requested"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason for the referral"), validators=[DataRequired(), Length(max=2000)])
    sections = MultiCheckboxField(_l("What the referral shares"), validators=[Optional()])
    due_on = DateField(_l("Answer due on"), validators=[Optional()])


class AnswerForm(FlaskForm):
    note = TextAreaField(_l("Answer"), validators=[Optional(), Length(max=2000)])
    done_on = DateField(_l("Service given on"), validators=[Optional()])
    version = HiddenField()


class OverrideForm(FlaskForm):
    case = StringField(_l("Case code"), validators=[DataRequired(), Length(max=32)])
    entity = SelectField(_l("Entity"), validators=[DataRequired()])
    reason = TextAreaField(_l("Why the case is shared without the victim's consent"),
                           validators=[DataRequired(), Length(max=2000)])
