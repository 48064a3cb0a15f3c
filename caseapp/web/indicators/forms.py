"""Forms of the indicators area: a manual value, the suppression threshold, an action-plan upload."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class ValueForm(FlaskForm):
    period = SelectField(_l("Period"), validators=[DataRequired()], choices=[])
    value = StringField(_l("Achieved value"), validators=[DataRequired(), Length(max=30)])
    source = StringField(_l("Source"), validators=[DataRequired(), Length(max=300)])
    version = HiddenField()
    submit = SubmitField(_l("Save value"))


class SuppressionForm(FlaskForm):
    k = IntegerField(_l("Suppression threshold k"), validators=[InputRequired(), NumberRange(min=2, max=100)])
    version = HiddenField()
    submit = SubmitField(_l("Save"))


class PlanUploadForm(FlaskForm):
    file = FileField(_l("Action plan (CSV or XLSX)"),
                     validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Upload a CSV or XLSX file."))])
    submit = SubmitField(_l("Preview"))


class PlanConfirmForm(FlaskForm):
    payload = HiddenField(validators=[DataRequired()])
    filename = HiddenField()
    submit = SubmitField(_l("Import the plan"))


class ProductForm(FlaskForm):
    name = StringField(_l("Product"), validators=[DataRequired(), Length(max=2000)])
    indicator = StringField(_l("Indicator"), validators=[DataRequired(), Length(max=2000)])
    formula = SelectField(_l("Formula"), choices=[])
    # Checked by the service (caseapp.services.indicators.check_params), whose messages say what is wrong.
    population = SelectField(_l("Population counted"), choices=[], validate_choice=False)
    step_kind = SelectField(_l("Kind of assistance step counted"), choices=[], validate_choice=False)
    provider_entity = StringField(_l("Provider entity counted (code)"), validators=[Length(max=16)])
    formula_text = StringField(_l("Formula as the sheet words it"), validators=[Length(max=2000)])
    baseline = StringField(_l("Baseline"), validators=[Length(max=40)])
    baseline_year = StringField(_l("Baseline year"), validators=[Length(max=4)])
    baseline_source = StringField(_l("Baseline source"), validators=[Length(max=200)])
    unit = SelectField(_l("Unit"), choices=[], validators=[Optional()])
    first_year = StringField(_l("First year"), validators=[Length(max=4)])
    weight = StringField(_l("Weight"), validators=[DataRequired(), Length(max=20)])
    sector = StringField(_l("Responsible sector"), validators=[Length(max=200)])
    responsible_entity = StringField(_l("Responsible entity (code)"), validators=[Length(max=16)])
    co_responsible = StringField(_l("Co-responsible"), validators=[Length(max=300)])
    target_population = StringField(_l("Target population"), validators=[Length(max=200)])
    ods_code = StringField(_l("ODS code"), validators=[Length(max=8)])
    ods_name = StringField(_l("ODS name"), validators=[Length(max=120)])
    version = HiddenField()
    submit = SubmitField(_l("Save"))
