"""Admin forms: users and entities. Every edit form carries the row's version (a stale edit is refused)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from caseapp.labels import LABELS

# Labels come from the one catalogue (caseapp.labels).
ROLE_LABELS = LABELS["role"]
KIND_LABELS = LABELS["entity_kind"]


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (rendered by the `field` macro as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VersionField(IntegerField):
    widget = HiddenInput()


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def entity_choices(entities) -> list[SelectChoice]:
    return choices((e.code, f"{e.code} · {e.name}") for e in entities)


def at_least_one(form, field) -> None:
    """Like DataRequired, without the `required` attribute (which would demand every checkbox)."""
    if not field.data:
        raise ValidationError(_l("Choose at least one role."))


class UserFields(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=120)],
                               description=_l("How colleagues see this person, e.g. Ana María Pérez."))
    entity = SelectField(_l("Entity"), validators=[DataRequired()], choices=[])
    roles = MultiCheckboxField(_l("Roles"), choices=choices(ROLE_LABELS.items()), validators=[at_least_one])


class UserCreateForm(UserFields):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=64)],
                           description=_l("Lowercase letters, digits, dots, hyphens or underscores."))
    password = PasswordField(_l("Initial password"), validators=[DataRequired()],
                             description=_l("A long phrase is best. Hand it over in person or by phone, never by "
                                            "e-mail."))
    password_confirm = PasswordField(_l("Repeat the initial password"),
                                     validators=[DataRequired(), EqualTo("password",
                                                                         message=_l("The passwords do not match."))])


class UserEditForm(UserFields):
    version = VersionField(validators=[InputRequired()])


class DecisionForm(FlaskForm):
    """Approve or reject a pending change (four eyes): CSRF only; the service checks the request is still pending."""


class VersionForm(FlaskForm):
    """A button acting on one row (deactivate, reactivate, reset second factor): CSRF plus the row's version."""

    version = VersionField(validators=[InputRequired()])


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    entity = SelectField(_l("Entity"), choices=[], validators=[Optional()])
    status = SelectField(_l("Status"), choices=choices([("", _l("All")), ("active", _l("Active")),
                                                         ("inactive", _l("Inactive"))]), validators=[Optional()])


class EntityFields(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS.items()), validators=[DataRequired()])
    # Checked by the service (caseapp.services.accounts.entities), the one owner of the rule.
    territory = StringField(_l("Territory"), default="CO", validators=[Length(max=16)],
                            description=_l("DANE (DIVIPOLA) code: a municipality (13001 Cartagena, 11001 Bogotá), a "
                                           "department (13 Bolívar) or CO for a national entity. A coordinator sees "
                                           "the counts of her entity's territory."))


class EntityCreateForm(EntityFields):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(min=2, max=16)],
                       description=_l("2 to 16 capital letters or digits; it prefixes the entity's case codes "
                                      "(e.g. CTG-2025-00042) and cannot be changed later."))


class EntityEditForm(EntityFields):
    version = VersionField(validators=[InputRequired()])
