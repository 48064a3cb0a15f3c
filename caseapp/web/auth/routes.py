"""Login in two steps (password, then the authenticator code), enrolment, logout and the account page.

Between the two steps the Flask session holds only the random id of a half-done login kept on the server
(single use, short expiry) and where to go next (no logged-in user); the login is complete, and a new
server-side session opened, only after the second factor. A user who must change their password is sent to
the account page by every other page until they do.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup, escape

from caseapp.errors import Invalid
from caseapp.extensions import limiter
from caseapp.services import accounts
from caseapp.web.auth import bp
from caseapp.web.auth.forms import (
    LANGUAGES,
    CodeForm,
    ConfirmForm,
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
    RecoveryCodeForm,
    RegenerateCodesForm,
)

PENDING = "auth_pending"
MAX_NEXT = 512
# What a user who must change their password can still reach (everything else sends them to the account page).
WHILE_CHANGING_PASSWORD = frozenset({"auth.account", "auth.account_password", "auth.account_language",
                                     "auth.logout", "auth.language", "static", "main.healthz"})


def _login_failed(failure: accounts.LoginFailed | None = None) -> str:
    if failure is not None and failure.wait:
        return " ".join((_("Login failed."), _("Too many failed attempts. Wait %(seconds)d seconds and try again.",
                                                seconds=failure.wait)))
    return _("Login failed.")


def _post_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT", "30 per minute")


def _safe_next(target) -> str | None:
    """A local path to go to after login, or None (never another site, never a header-breaking value)."""
    if not isinstance(target, str) or not target or len(target) > MAX_NEXT:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in target):  # %0a, %0d, tabs, control characters
        return None
    try:
        parts = urlsplit(target)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        return None
    return target


def _pending() -> dict | None:
    """The half-done login of this browser, if the server still holds it (not used, not expired)."""
    data = session.get(PENDING)
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None
    if accounts.pending_state(data["id"]) is None:
        if accounts.pending_expired(data["id"]):
            flash(_("The sign-in took too long. Please start again."), "info")
        session.pop(PENDING, None)
        return None
    return data


def _restart(message: str | None = None):
    session.pop(PENDING, None)
    if message:
        flash(message, "error")
    return redirect(url_for("auth.login"))


def _sign_in(user, pending: dict) -> str:
    """Bind the new server-side session to a fresh cookie; returns where to go next."""
    locale = session.get("locale")
    session.clear()  # a new session: nothing from before the login survives but the language
    if locale:
        session["locale"] = locale
    login_user(user)
    session.permanent = True
    g.known_device_of = user.username  # remember_known_device() gives this browser its cookie
    if user.must_change_password:
        flash(_("Please choose a new password of your own before you go on."), "warning")
        return url_for("auth.account")
    return _safe_next(pending.get("next")) or url_for("main.home")


@bp.after_request
def remember_known_device(response):
    """A browser that just signed in fully becomes a known device of the account: strangers failing elsewhere never
    slow down its later sign-ins (services/accounts/devices.py). Only an account hash and a nonce, signed."""
    username = g.pop("known_device_of", None)
    if username:
        response.set_cookie(accounts.DEVICE_COOKIE, accounts.known_device_cookie(username),
                            max_age=int(accounts.DEVICE_COOKIE_AGE.total_seconds()), path="/auth/",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False), httponly=True,
                            samesite="Lax")
    return response


def _device_cookie() -> str | None:
    return request.cookies.get(accounts.DEVICE_COOKIE)


@bp.before_app_request
def require_password_change():
    """Until a user given a password by an admin chooses their own, every page but the change page sends them
    there (the API refuses their tokens in caseapp.api)."""
    if request.endpoint in WHILE_CHANGING_PASSWORD or request.path.startswith("/api/"):
        return None
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    flash(_("Please choose a new password of your own before you go on."), "warning")
    return redirect(url_for("auth.account"))


def _qr_svg(uri: str) -> Markup:
    """The provisioning URI as an inline SVG QR code, drawn here (no external service, no data: URI)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, omitsize=True, svgclass="qr-code", lineclass="qr-line")
    label = escape(_("QR code to add Ruta to your authenticator app"))
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))  # noqa: S704 - segno's own markup


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_post_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    # Checked before anything is done: an unsafe value is dropped (home page), never carried into a redirect.
    next_url = _safe_next(request.args.get("next"))
    form = LoginForm()
    failed = None
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.username.data, form.password.data, request.remote_addr,
                                          _device_cookie())
        except accounts.LoginFailed as failure:
            failed = _login_failed(failure)
        else:
            session.pop(PENDING, None)
            session[PENDING] = {"id": accounts.open_pending(user), "next": next_url}
            return redirect(url_for("auth.verify" if user.totp_enrolled_at else "auth.enrol"))
    return render_template("auth/login.html", form=form, failed=failed, next_url=next_url,
                           languages=LANGUAGES)


@bp.route("/language", methods=["POST"])
def language():
    """The language chosen on the login page, for this browser."""
    form = ConfirmForm()
    choice = request.form.get("locale")
    if form.validate_on_submit() and choice in current_app.config["LANGUAGES"]:
        session["locale"] = choice
    return redirect(url_for("auth.login"))


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_post_limit, methods=["POST"])
def verify():
    pending = _pending()
    if pending is None:
        return redirect(url_for("auth.login"))
    state = accounts.pending_state(pending["id"])
    if state is None:
        return _restart(_login_failed())
    if state == "enrol":
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            user = accounts.verify_second_factor(pending["id"], form.code.data, request.remote_addr,
                                                 _device_cookie())
        except accounts.LoginFailed as failure:
            if failure.final:
                return _restart(_login_failed())
            form.code.errors.append(_login_failed(failure))
        else:
            return redirect(_sign_in(user, pending))
    return render_template("auth/verify.html", form=form)


@bp.route("/recovery", methods=["GET", "POST"])
@limiter.limit(_post_limit, methods=["POST"])
def recovery():
    pending = _pending()
    if pending is None:
        return redirect(url_for("auth.login"))
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        try:
            user = accounts.use_recovery_code(pending["id"], form.recovery_code.data, request.remote_addr,
                                               _device_cookie())
        except accounts.LoginFailed as failure:
            if failure.final:
                return _restart(_login_failed())
            form.recovery_code.errors.append(_login_failed(failure))
        else:
            target = _sign_in(user, pending)
            left = accounts.remaining_recovery_codes(user)
            flash(_("You used a recovery code. %(count)d codes are left; you can make new ones on your account page.",
                    count=left), "warning")
            return redirect(target)
    return render_template("auth/recovery.html", form=form)


@bp.route("/enrol", methods=["GET", "POST"])
@limiter.limit(_post_limit, methods=["POST"])
def enrol():
    pending = _pending()
    if pending is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            user, codes = accounts.confirm_enrolment(pending["id"], form.code.data, request.remote_addr)
        except accounts.LoginFailed as failure:
            if failure.reason == "already_enrolled":
                return redirect(url_for("auth.verify"))
            if failure.final:
                return _restart(_login_failed())
            form.code.errors.append(_login_failed(failure) if failure.wait else
                                    _("The code is not valid. Check the time of your phone and try again."))
        else:
            target = _sign_in(user, pending)
            return render_template("auth/recovery_codes.html", codes=codes, next_url=target)
    try:
        details = accounts.enrolment(pending["id"])
    except accounts.LoginFailed as failure:
        if failure.reason == "already_enrolled":
            return redirect(url_for("auth.verify"))
        return _restart(_login_failed())
    secret_groups = " ".join(details.secret[i : i + 4] for i in range(0, len(details.secret), 4))
    return render_template("auth/enrol.html", form=form, qr=_qr_svg(details.uri), secret=secret_groups,
                           username=details.username)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        accounts.logout(current_user._get_current_object())
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


# --- the account page --------------------------------------------------------------------------------------


def _account_page(status: int = 200, **forms):
    user = current_user._get_current_object()
    language_form = forms.get("language_form") or LanguageForm(formdata=None, locale=user.locale or "es_CO")
    return render_template(
        "auth/account.html",
        language_form=language_form,
        password_form=forms.get("password_form") or PasswordChangeForm(formdata=None),
        codes_form=forms.get("codes_form") or RegenerateCodesForm(formdata=None),
        **accounts.overview(user),
    ), status


def _attach(form, error: Invalid) -> None:
    for name, messages in error.field_errors.items():
        if name in form:
            form[name].errors = list(form[name].errors) + list(messages)


@bp.route("/account")
@login_required
def account():
    return _account_page()


@bp.route("/account/language", methods=["POST"])
@login_required
def account_language():
    form = LanguageForm()
    if form.validate_on_submit():
        accounts.set_locale(current_user._get_current_object(), form.locale.data)
        flash(_("Your language was saved."), "success")
        return redirect(url_for("auth.account"))
    return _account_page(422, language_form=form)


@bp.route("/account/password", methods=["POST"])
@limiter.limit(_post_limit)
@login_required
def account_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            ended = accounts.change_password(current_user._get_current_object(), form.current_password.data,
                                             form.new_password.data, form.confirm_password.data)
        except Invalid as error:
            _attach(form, error)
        else:
            flash(_("Your password was changed. Sessions on other devices were closed: %(count)d.", count=ended),
                  "success")
            return redirect(url_for("auth.account"))
    return _account_page(422, password_form=form)


@bp.route("/account/recovery-codes", methods=["POST"])
@limiter.limit(_post_limit)
@login_required
def account_recovery_codes():
    form = RegenerateCodesForm()
    if form.validate_on_submit():
        try:
            codes = accounts.regenerate_recovery_codes(current_user._get_current_object(), form.regen_code.data)
        except Invalid as error:
            _attach(form, error)
        else:
            return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for("auth.account"))
    return _account_page(422, codes_form=form)


@bp.route("/account/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.account"))
    ended = accounts.logout_everywhere(current_user._get_current_object())
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You signed out on every device (%(count)d sessions).", count=ended), "success")
    return redirect(url_for("auth.login"))
