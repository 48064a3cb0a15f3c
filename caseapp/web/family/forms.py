"""Forms of the family-members screen (field names are the keys of services.family)."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from caseapp.labels import choices as label_choices
from caseapp.models.cases import RELATIONSHIPS
from caseapp.models.safety import FAMILY_STEP_STATUSES
from caseapp.models.victims import AGE_GROUPS, DOCUMENT_TYPES
from caseapp.web.cases.forms import MSG_REQUIRED, ChoiceField, SpanishDateField
from caseapp.web.flow import SentOnce


class MemberForm(SentOnce, FlaskForm):
    names = StringField(_l("Names and surnames"), validators=[InputRequired(message=MSG_REQUIRED), Length(max=200)])
    relationship = ChoiceField(_l("Relationship to the victim"), validators=[InputRequired(message=MSG_REQUIRED)])
    age_group = ChoiceField(_l("Age group"), validators=[Optional()])
    document_type = ChoiceField(_l("Document type"), validators=[Optional()])
    document_number = StringField(_l("Document number"), validators=[Optional(), Length(max=40)])
    version = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.relationship.choices = label_choices("relationship", RELATIONSHIPS, blank="—")
        self.age_group.choices = label_choices("age_group", AGE_GROUPS)
        self.document_type.choices = label_choices("document_type", DOCUMENT_TYPES)
        if not self.age_group.data:
            self.age_group.data = "unknown"
        if not self.document_type.data:
            self.document_type.data = "NONE"

    def data_dict(self) -> dict:
        return {"names": self.names.data, "relationship": self.relationship.data,
                "age_group": self.age_group.data or "unknown", "document_type": self.document_type.data or "NONE",
                "document_number": self.document_number.data, "version": self.version.data}


class MemberStepForm(SentOnce, FlaskForm):
    kind = ChoiceField(_l("Kind of step"), validators=[InputRequired(message=MSG_REQUIRED)])
    status = ChoiceField(_l("Status"), validators=[InputRequired(message=MSG_REQUIRED)])
    on = SpanishDateField(_l("Date done or planned"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])

    def __init__(self, kinds, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = str(get_locale() or "es")
        self.kind.choices = [(k.code, k.label(locale)) for k in kinds]
        self.status.choices = label_choices("family_step_status", FAMILY_STEP_STATUSES)

