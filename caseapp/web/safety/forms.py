"""Forms of the safety-flags screen."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from caseapp.labels import choices as label_choices
from caseapp.models.safety import SAFETY_FLAG_KINDS
from caseapp.web.cases.forms import MSG_REQUIRED, ChoiceField
from caseapp.web.flow import SentOnce


class SetFlagForm(SentOnce, FlaskForm):
    kind = ChoiceField(_l("Flag"), validators=[InputRequired(message=MSG_REQUIRED)])
    # blank selected: only the flag "contact only through" names one (the service refuses one on any other)
    professional = ChoiceField(_l("Named professional (only for “contact only through”)"), validators=[Optional()],
                               default="")
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(message=MSG_REQUIRED), Length(max=2000)])

    def __init__(self, professionals, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = label_choices("safety_flag", SAFETY_FLAG_KINDS, blank="—")
        self.professional.choices = [("", "—")] + [(u.username, u.display_name or u.username) for u in professionals]


class ClearFlagForm(FlaskForm):
    flag_id = IntegerField(validators=[InputRequired()])
    version = HiddenField()
    reason = TextAreaField(_l("Reason for clearing"), validators=[InputRequired(message=MSG_REQUIRED),
                                                                  Length(max=2000)])
