"""Forms of the login, second-factor and account pages (Flask-WTF: every form carries a CSRF token)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length

# (locale, name of the language in itself, its HTML lang)
LANGUAGES = (("es_CO", "Español", "es"), ("en", "English", "en"))
# Login and code fields have no length validator: anything malformed is simply a failed login (service side).
TOO_LONG = Length(max=1024, message=_l("Use at most %(max)d characters."))
TOTP_ATTRS = {"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "maxlength": "8",
              "spellcheck": "false", "autocapitalize": "off"}


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(message=_l("Enter your username."))],
        render_kw={"autocomplete": "username", "autocapitalize": "off", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Sign in"))


class CodeForm(FlaskForm):
    """The six-digit code of the authenticator app."""

    code = StringField(
        _l("Verification code"),
        validators=[DataRequired(message=_l("Enter the six-digit code from your authenticator app."))],
        render_kw=TOTP_ATTRS,
    )
    submit = SubmitField(_l("Verify"))


class RecoveryCodeForm(FlaskForm):
    recovery_code = StringField(
        _l("Recovery code"),
        validators=[DataRequired(message=_l("Enter one of your recovery codes."))],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Verify"))


class LanguageForm(FlaskForm):
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, name, render_kw={"lang": lang}) for code, name, lang in LANGUAGES],
    )
    submit = SubmitField(_l("Save language"))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password.")), TOO_LONG],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Enter the new password.")), TOO_LONG],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(message=_l("Repeat the new password.")), TOO_LONG],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class RegenerateCodesForm(FlaskForm):
    regen_code = StringField(
        _l("Verification code"),
        validators=[DataRequired(message=_l("Enter the six-digit code from your authenticator app."))],
        render_kw=TOTP_ATTRS,
    )
    submit = SubmitField(_l("Generate new recovery codes"))


class ConfirmForm(FlaskForm):
    """A button and its CSRF token (sign out, sign out everywhere)."""
