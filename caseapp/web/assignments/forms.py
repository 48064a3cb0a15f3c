"""Forms of the assignment screens: professionals are picked from lists, never typed. Every form has CSRF."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired, Optional


class AssignForm(FlaskForm):
    username = SelectField(_l("Professional"), validators=[DataRequired()])
    role = SelectField(_l("Role on the case"), validators=[DataRequired()])


class EndForm(FlaskForm):
    username = HiddenField(validators=[DataRequired()])
    role = HiddenField(validators=[DataRequired()])
    replacement = SelectField(_l("Replaced by"), validators=[Optional()], validate_choice=False)


class BulkForm(FlaskForm):
    from_username = SelectField(_l("Move the open cases of"), validators=[DataRequired()])
    to_username = SelectField(_l("To"), validators=[DataRequired()])
    role = SelectField(_l("Role on the case"), validators=[DataRequired()])
