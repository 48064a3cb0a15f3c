"""Forms of the case registry. Field names are the data-dict keys of `caseapp.services.registry`.

Labels are English message ids (Spanish in the cases_web fragment); value lists come from the models.
"""
from __future__ import annotations

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

try:  # WTForms >= 3.3 declares options as SelectChoice (tuples are deprecated there)
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None

from caseapp.labels import LABELS, NOT_STATED, country_label
from caseapp.labels import choices as label_choices
from caseapp.models.cases import (
    CASE_STATUSES,
    CLOSURE_REASONS,
    CONSENT_METHODS,
    CONTROL_METHODS,
    IDENTIFICATION_SOURCES,
    RECRUITMENT_METHODS,
    SCREENING_ACTS,
    SCREENING_MEANS,
    TRAFFICKING_SCOPES,
    VICTIM_STATUSES,
)
from caseapp.models.victims import (
    AGE_GROUPS,
    DOCUMENT_TYPES,
    ETHNIC_GROUPS,
    GENDER_IDENTITIES,
    MIGRANT_STATUSES,
    SEXES,
    YES_NO_UNKNOWN,
)
from caseapp.services.primitives import as_version

# --- labels of the value lists: read from the one catalogue (caseapp.labels), never defined here ------------

DOCUMENT_TYPE_LABELS = LABELS["document_type"]
STATUS_LABELS = LABELS["status"]
CLOSURE_LABELS = LABELS["closure"]
CONSENT_KIND_LABELS = LABELS["consent_kind"]
CONSENT_METHOD_LABELS = LABELS["consent_method"]
ERASURE_REASON_LABELS = LABELS["erasure_reason"]
YES_NO = ("yes", "no")

# Short names the registry's templates used for the groups (kept for the views that pass them along).
OPTIONS = {
    "document": LABELS["document_type"], "sex": LABELS["sex"], "gender": LABELS["gender_identity"],
    "age": LABELS["age_group"], "ethnic": LABELS["ethnic_group"], "yes_no": LABELS["yes_no"],
    "migrant": LABELS["migrant_status"], "source": LABELS["identification_source"],
    "scope": LABELS["trafficking_scope"], "victim_status": LABELS["victim_status"],
    "control": LABELS["control_method"], "act": LABELS["screening_act"], "means": LABELS["screening_means"],
    "status": STATUS_LABELS, "closure": CLOSURE_LABELS,
}

MSG_TOO_LONG = _l("Too long: at most %(max)d characters.")
MSG_REQUIRED = _l("This field is required.")
MSG_BAD_DATE = _l("Not a valid date (use the calendar or YYYY-MM-DD).")
MSG_BAD_CHOICE = _l("Choose one of the options in the list.")


def option(value, label):
    return SelectChoice(value, label) if SelectChoice is not None else (value, label)


def choices(values, group: str, blank=None):
    """Options for a select, labelled by the caseapp.labels group `group`."""
    return [option(v, text) for v, text in label_choices(group, values, blank=blank)]


def country_choices():
    """ISO 3166 alpha-2 countries named in the current language, Colombia and Venezuela first."""
    locale = get_locale() or Locale("es")
    from caseapp.services.registry import COUNTRY_CODES

    names = {code: name for code, name in locale.territories.items() if code in COUNTRY_CODES}
    first = [c for c in ("CO", "VE", "EC", "PE") if c in names]
    rest = sorted((c for c in names if c not in first), key=lambda c: names[c])
    return [option(c, names[c]) for c in first + rest]


def country_name(code: str | None) -> str:
    """A nationality left blank reads "not stated" (no informa), never a country."""
    return country_label(code)


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes (rendered by the `field` macro as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, bad_choice_message=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.bad_choice_message = bad_choice_message or MSG_BAD_CHOICE

    def pre_validate(self, form):
        allowed = {str(value) for value, *_ in self.iter_choices()}
        if any(str(v) not in allowed for v in (self.data or [])):
            raise ValidationError(self.bad_choice_message)


class ChoiceField(SelectField):
    """A select whose bad values get a Spanish message that does not echo the input."""

    def pre_validate(self, form):
        if self.data in (None, "") and not self.flags.required:
            return
        if str(self.data) not in {str(value) for value, *_ in self.iter_choices()}:
            raise ValidationError(MSG_BAD_CHOICE)


class YesNoField(RadioField):
    """A required yes/no question, rendered by the `field` macro as a fieldset of radios."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "RadioField"  # the macro renders by field type

    def pre_validate(self, form):
        if self.data not in ("yes", "no"):
            raise ValidationError(MSG_REQUIRED)


class SpanishDateField(DateField):
    """A date input whose parse error is our own Spanish message."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(MSG_BAD_DATE) from None


def text(label, max_len, *, required=False, hint=None):
    validators = [DataRequired(message=MSG_REQUIRED) if required else Optional()]
    validators.append(Length(max=max_len, message=MSG_TOO_LONG))
    return StringField(label, validators=validators, description=hint or "")


def municipality(label):
    """A municipality's 5-digit DANE code, offered from a list of known ones (the datalist of _places_fields)."""
    return StringField(label, validators=[Optional()], render_kw={
        "inputmode": "numeric", "autocomplete": "off", "list": "divipola-municipalities", "size": 8})


def long_text(label, max_len):
    return TextAreaField(label, validators=[Optional(), Length(max=max_len, message=MSG_TOO_LONG)])


# --- search and list ---------------------------------------------------------------------------------------


class SearchForm(FlaskForm):
    """Exact search: one way at a time. Posted, never in a URL."""

    document_type = ChoiceField(_l("Document type"), validators=[Optional()])
    document_number = text(_l("Document number"), 40)
    name = text(_l("Full name"), 200)
    phone = text(_l("Phone"), 40)
    code = text(_l("Case code"), 32)
    submit = SubmitField(_l("Search"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.document_type.choices = choices(DOCUMENT_TYPES, "document_type", blank=_l("— Choose —"))

    def criteria(self) -> dict:
        """The one search the user asked for, as keyword arguments for search_cases()."""
        data = {k: (getattr(self, k).data or "").strip() for k in ("document_number", "name", "phone", "code")}
        chosen = []
        if data["document_number"]:
            chosen.append({"document_type": self.document_type.data, "document_number": data["document_number"]})
        for key in ("name", "phone", "code"):
            if data[key]:
                chosen.append({key: data[key]})
        return chosen[0] if len(chosen) == 1 else {}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not ok:
            return False
        filled = [k for k in ("document_number", "name", "phone", "code") if (getattr(self, k).data or "").strip()]
        if not filled:
            self.form_errors.append(_l("Fill in one way of searching: document, full name, phone or case code."))
            return False
        if len(filled) > 1:
            self.form_errors.append(_l("Search one way at a time: fill in only one of document, name, phone or code."))
            return False
        if filled == ["document_number"] and not self.document_type.data:
            self.document_type.errors = [_l("Choose the document type.")]
            return False
        return True


class StatusFilterForm(FlaskForm):
    """The status filter of the list (a GET form: no CSRF, carries no identity)."""

    class Meta:
        csrf = False

    status = ChoiceField(_l("Status"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = choices(CASE_STATUSES, "status", blank=_l("All"))


# --- registration and edit ---------------------------------------------------------------------------------


class CaseFieldsForm(FlaskForm):
    """Identity, statistical and case fields shared by registration and edit."""

    # Identity (encrypted).
    given_names = text(_l("Given names"), 200, required=True)
    family_names = text(_l("Family names"), 200)
    document_type = ChoiceField(_l("Document type"), validators=[Optional()])
    document_number = text(_l("Document number"), 40)
    birth_date = SpanishDateField(_l("Date of birth"), validators=[Optional()])
    phone = text(_l("Phone"), 40)
    address = text(_l("Address"), 300)
    contact_person = text(_l("Contact person"), 300)
    narrative = long_text(_l("Account of the facts"), 4000)

    # Statistical (clear, coarse).
    sex = ChoiceField(_l("Sex"), validators=[Optional()])
    gender_identity = ChoiceField(_l("Gender identity"), validators=[Optional()])
    age_group = ChoiceField(_l("Age group at identification"), validators=[Optional()])
    nationality = ChoiceField(_l("Nationality"), validators=[Optional()])
    ethnic_group = ChoiceField(_l("Ethnic group"), validators=[Optional()])
    disability = ChoiceField(_l("Disability"), validators=[Optional()])
    lgbtiq = ChoiceField(_l("LGBTIQ+ person"), validators=[Optional()])
    migrant_status = ChoiceField(_l("Migrant status"), validators=[Optional()])

    # Case.
    identified_on = SpanishDateField(_l("Identification date"), validators=[InputRequired(message=MSG_REQUIRED)])
    identification_source = ChoiceField(_l("Identification source"), validators=[InputRequired(message=MSG_REQUIRED)])
    exploitation_purposes = MultiCheckboxField(
        _l("Purposes of exploitation (art. 188A)"),
        validators=[DataRequired(message=_l("Choose at least one purpose of exploitation."))],
        bad_choice_message=_l("Choose purposes from the list in force on the identification date."),
    )
    trafficking_scope = ChoiceField(_l("Trafficking"), validators=[InputRequired(message=MSG_REQUIRED)])
    control_methods = MultiCheckboxField(_l("Methods of control"), validators=[Optional()])
    victim_status = ChoiceField(_l("Victim status"), validators=[InputRequired(message=MSG_REQUIRED)])

    # Places, coarse and never an address: DANE codes and a country (services.registry.places checks them).
    identification_municipality = municipality(_l("Municipality of identification"))
    recruitment_municipality = municipality(_l("Municipality of recruitment"))
    exploitation_municipality = municipality(_l("Municipality of exploitation"))
    destination_country = ChoiceField(_l("Country of destination"), validators=[Optional()])
    recruitment_method = ChoiceField(_l("Recruitment method"), validators=[Optional()])
    PLACES = ("identification_municipality", "recruitment_municipality", "exploitation_municipality",
              "destination_country", "recruitment_method")

    IDENTITY = ("given_names", "family_names", "document_type", "document_number", "birth_date", "phone",
                "address", "contact_person", "narrative")
    STATISTICS = ("sex", "gender_identity", "age_group", "nationality", "ethnic_group", "disability", "lgbtiq",
                  "migrant_status")
    CASE = ("identified_on", "identification_source", "exploitation_purposes", "trafficking_scope",
            "control_methods", "victim_status") + PLACES

    def __init__(self, *args, purposes=(), **kwargs):
        super().__init__(*args, **kwargs)
        not_stated = _l("— Not stated —")
        self.document_type.choices = choices(DOCUMENT_TYPES, "document_type", blank=not_stated)
        # Value lists that include "unknown" show it as "Not stated", the default.
        self.sex.choices = choices(SEXES, "sex")
        self.gender_identity.choices = choices(GENDER_IDENTITIES, "gender_identity")
        self.age_group.choices = choices(AGE_GROUPS, "age_group")
        # No country is assumed: a blank nationality is stored as none and read "not stated" (no informa).
        self.nationality.choices = [option("", NOT_STATED)] + country_choices()
        self.ethnic_group.choices = choices(ETHNIC_GROUPS, "ethnic_group")
        self.disability.choices = choices(YES_NO_UNKNOWN, "yes_no")
        self.lgbtiq.choices = choices(YES_NO_UNKNOWN, "yes_no")
        self.migrant_status.choices = choices(MIGRANT_STATUSES, "migrant_status")
        for name in ("sex", "gender_identity", "age_group", "ethnic_group", "disability", "lgbtiq", "migrant_status"):
            field = getattr(self, name)
            if not field.data:
                field.data = "unknown"
        choose = _l("— Choose —")
        self.identification_source.choices = choices(IDENTIFICATION_SOURCES, "identification_source", blank=choose)
        self.trafficking_scope.choices = choices(TRAFFICKING_SCOPES, "trafficking_scope", blank=choose)
        self.victim_status.choices = choices(VICTIM_STATUSES, "victim_status", blank=choose)
        self.control_methods.choices = choices(CONTROL_METHODS, "control_method")
        self.destination_country.choices = [option("", _l("— None (internal trafficking) —"))] + country_choices()
        if not self.destination_country.data:  # "None" shown selected, so the page says what an untouched form sends
            self.destination_country.data = ""
        self.recruitment_method.choices = choices(RECRUITMENT_METHODS, "recruitment_method", blank=not_stated)
        self.exploitation_purposes.choices = [option(p.code, purpose_label(p)) for p in purposes]

    def without_identity(self) -> None:
        """Drop the identity fields (her identity was erased: nothing to show or edit)."""
        for name in self.IDENTITY:
            if name in self._fields:
                delattr(self, name)

    def field_data(self, names) -> dict:
        out = {}
        for name in names:
            if name not in self._fields:
                continue
            value = getattr(self, name).data
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif isinstance(value, str):
                value = value.strip()
            out[name] = value
        return out

    def case_data(self) -> dict:
        """The data dict for the service (blank selects mean "not stated"). A blank nationality is sent as blank,
        so that choosing "not stated" on an edit clears a country recorded before."""
        data = self.field_data(self.IDENTITY + self.STATISTICS + self.CASE)
        for name in self.STATISTICS:
            if not data.get(name) and name != "nationality":
                data.pop(name, None)
        return data

    def add_service_errors(self, field_errors: dict) -> None:
        """Attach the service's field errors to the fields (unknown keys go to the form-level list)."""
        for name, message in (field_errors or {}).items():
            field = self._fields.get(name)
            messages = message if isinstance(message, list | tuple) else [message]
            if field is not None and name != "csrf_token":
                field.errors = list(field.errors or []) + [str(m) for m in messages]
            else:
                self.form_errors.extend(str(m) for m in messages)


def purpose_label(purpose) -> str:
    locale = get_locale()
    return purpose.label_en if locale is not None and locale.language == "en" else purpose.label_es


def lawyer_choices() -> list[tuple[str, str]]:
    """The registering user's entity's active lawyers (the service checks the one chosen again)."""
    from flask_login import current_user

    from caseapp.services.casework.assignments import entity_lawyers

    return [("", _l("— None for now —"))] + [
        (u.username, f"{u.display_name or u.username} ({u.username})") for u in entity_lawyers(current_user)]


class RegistrationForm(CaseFieldsForm):
    # Screening (Palermo elements).
    screening_acts = MultiCheckboxField(_l("Act"), validators=[Optional()])
    screening_means = MultiCheckboxField(_l("Means"), validators=[Optional()])
    screening_purpose = BooleanField(_l("A purpose of exploitation is present"))

    # Consents.
    consent_assistance = YesNoField(_l("Does she accept assistance?"), validators=[InputRequired(message=MSG_REQUIRED)])
    consent_data_processing = YesNoField(
        _l("Does she authorise the processing of her sensitive data (Law 1581 of 2012)?"),
        validators=[InputRequired(message=MSG_REQUIRED)],
    )
    consent_method = ChoiceField(_l("How consent was obtained"), validators=[Optional()])
    declined_reasons = long_text(_l("Her reasons for declining assistance, if she gives them"), 2000)
    representative = text(_l("Legal representative or child-protection authority who authorises (child)"), 200)

    # The lawyer who takes the case with her (optional; assignments): picked from her entity's lawyers.
    lawyer = SelectField(_l("Lawyer assigned to the case"), validators=[Optional()], validate_choice=False)

    confirm_duplicate = BooleanField(_l("I contacted them or checked: register this case anyway"))
    form_token = HiddenField()
    submit = SubmitField(_l("Register case"))

    SCREENING = ("screening_acts", "screening_means", "screening_purpose")
    CONSENTS = ("consent_method", "declined_reasons", "representative")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.screening_acts.choices = choices(SCREENING_ACTS, "screening_act")
        yes_no = choices(YES_NO, "yes_no")
        self.consent_assistance.choices = yes_no
        self.consent_data_processing.choices = yes_no
        self.screening_means.choices = choices(SCREENING_MEANS, "screening_means")
        self.consent_method.choices = choices(CONSENT_METHODS, "consent_method", blank=_l("— Choose —"))
        self.lawyer.choices = lawyer_choices()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        consented = "yes" in (self.consent_assistance.data, self.consent_data_processing.data)
        if consented and not self.consent_method.data:
            self.consent_method.errors = list(self.consent_method.errors) + [MSG_REQUIRED]
            ok = False
        return ok

    def case_data(self) -> dict:
        data = super().case_data()
        data.update(self.field_data(self.SCREENING + self.CONSENTS))
        data["consent_assistance"] = self.consent_assistance.data == "yes"
        data["consent_data_processing"] = self.consent_data_processing.data == "yes"
        data["lawyer"] = self.lawyer.data or None
        return data


class EditForm(CaseFieldsForm):
    version = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Save changes"))

    def validate_version(self, field):
        if as_version(field.data or "") is None:
            raise ValidationError(_l("The form is incomplete; open the case again."))


# --- actions on a case -------------------------------------------------------------------------------------


class VersionedActionForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])

    def validate_version(self, field):
        if as_version(field.data or "") is None:
            raise ValidationError(_l("The form is incomplete; open the case again."))


class StatusForm(VersionedActionForm):
    status = ChoiceField(_l("New status"), validators=[InputRequired(message=MSG_REQUIRED)])
    on = SpanishDateField(_l("Date"), validators=[Optional()])
    reason = ChoiceField(_l("Closure reason"), validators=[Optional()])
    # Mediate assistance starts from the criminal complaint and the acta única (Decree 1066 of 2015).
    complaint_on = SpanishDateField(_l("Criminal complaint filed on"), validators=[Optional()])
    acta_on = SpanishDateField(_l("Acta única signed on"), validators=[Optional()])
    submit = SubmitField(_l("Change status"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = choices(CASE_STATUSES, "status")
        self.reason.choices = choices(CLOSURE_REASONS, "closure", blank=_l("— Choose —"))


class WithdrawConsentForm(VersionedActionForm):
    consent_id = IntegerField(validators=[InputRequired()])
    submit = SubmitField(_l("Withdraw"))


class GiveConsentForm(FlaskForm):
    kind = ChoiceField(_l("Consent"), validators=[InputRequired(message=MSG_REQUIRED)])
    method = ChoiceField(_l("How consent was obtained"), validators=[InputRequired(message=MSG_REQUIRED)])
    given_on = SpanishDateField(_l("Date"), validators=[InputRequired(message=MSG_REQUIRED)])
    # picked from a list of entities, not typed (a typed code was easy to get wrong)
    entity_code = ChoiceField(_l("Entity the data may be shared with"), validators=[Optional()],
                              filters=[lambda v: v.strip().upper() if isinstance(v, str) else v])
    representative = text(_l("Legal representative or child-protection authority who authorises (child)"), 200)
    submit = SubmitField(_l("Record consent"))

    def __init__(self, *args, entities=(), **kwargs):
        """`entities`: (code, name) pairs, the entities a consent to share may name."""
        super().__init__(*args, **kwargs)
        from caseapp.models.cases import CONSENT_KINDS

        self.kind.choices = choices(CONSENT_KINDS, "consent_kind", blank=_l("— Choose —"))
        self.method.choices = choices(CONSENT_METHODS, "consent_method", blank=_l("— Choose —"))
        self.entity_code.choices = [option("", _l("— Only for sharing —"))] + [
            option(code, f"{name} ({code})") for code, name in entities]


class ErasureRequestForm(FlaskForm):
    reason = ChoiceField(_l("Reason"), validators=[InputRequired(message=MSG_REQUIRED)])
    submit = SubmitField(_l("Request erasure"))


class ErasureDecisionForm(FlaskForm):
    confirm_code = text(_l("Type the case code to confirm"), 32, required=True)
    approve = SubmitField(_l("Approve and erase identity"))


class ErasureRejectForm(FlaskForm):
    reject = SubmitField(_l("Reject"))


class PurposeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(message=MSG_REQUIRED), Length(max=40, message=MSG_TOO_LONG),
        Regexp(r"^[a-z][a-z0-9_]*$", message=_l("Lower-case letters, digits and underscores only.")),
    ])
    label_es = text(_l("Label in Spanish"), 200, required=True)
    label_en = text(_l("Label in English"), 200, required=True)
    valid_from = SpanishDateField(_l("In force from"), validators=[InputRequired(message=MSG_REQUIRED)])
    legal_source = text(_l("Legal source"), 200, required=True)
    submit = SubmitField(_l("Add purpose"))


class ClosePurposeForm(FlaskForm):
    code = HiddenField(validators=[InputRequired()])
    valid_to = SpanishDateField(_l("In force until"), validators=[InputRequired(message=MSG_REQUIRED)])
    submit = SubmitField(_l("Close"))


class ChildReferralForm(FlaskForm):
    """The button that sends a child's mandatory referral when registration could not (CSRF only)."""
