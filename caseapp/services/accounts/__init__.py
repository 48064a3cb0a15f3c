"""Accounts and entities: sign-in with the second factor, sessions, the password policy, and the
administration of users and entities (admin screens and the `flask users|entities` CLI)."""
from caseapp.services.accounts.administration import (
    CLI,
    SystemActor,
    normalise_entity_code,
    normalise_username,
)
from caseapp.services.accounts.approvals import (
    approve_change,
    pending_changes,
    reject_change,
)
from caseapp.services.accounts.devices import COOKIE as DEVICE_COOKIE
from caseapp.services.accounts.devices import MAX_AGE as DEVICE_COOKIE_AGE
from caseapp.services.accounts.devices import issue as known_device_cookie
from caseapp.services.accounts.entities import (
    create_entity,
    deactivate_entity,
    entity_directory,
    get_entity,
    list_entities,
    reactivate_entity,
    update_entity,
)
from caseapp.services.accounts.login import (
    Enrolment,
    LoginFailed,
    authenticate,
    confirm_enrolment,
    enrolment,
    match_totp,
    open_pending,
    pending_expired,
    pending_state,
    remaining_recovery_codes,
    use_recovery_code,
    verify_second_factor,
)
from caseapp.services.accounts.own_account import (
    change_password,
    logout,
    logout_everywhere,
    overview,
    regenerate_recovery_codes,
    set_locale,
)
from caseapp.services.accounts.sessions import revoke_api_tokens
from caseapp.services.accounts.users import (
    UserPage,
    create_user,
    deactivate_user,
    end_sessions,
    get_user,
    issue_token,
    list_users,
    live_session_count,
    live_token_count,
    reactivate_user,
    reset_password,
    reset_totp,
    revoke_tokens,
    token_days,
    update_user,
)

__all__ = [
    "CLI", "DEVICE_COOKIE", "DEVICE_COOKIE_AGE", "Enrolment", "LoginFailed", "known_device_cookie", "SystemActor", "UserPage", "approve_change",
    "authenticate", "pending_changes", "reject_change",
    "change_password", "confirm_enrolment", "create_entity", "create_user", "deactivate_entity", "deactivate_user",
    "end_sessions", "enrolment", "entity_directory", "get_entity", "get_user", "issue_token", "list_entities",
    "list_users", "live_session_count", "live_token_count", "logout", "logout_everywhere", "match_totp",
    "normalise_entity_code", "normalise_username", "open_pending", "overview", "pending_expired", "pending_state", "reactivate_entity",
    "reactivate_user", "regenerate_recovery_codes", "remaining_recovery_codes", "reset_password", "reset_totp", "revoke_api_tokens", "revoke_tokens", "token_days",
    "set_locale", "update_entity", "update_user", "use_recovery_code", "verify_second_factor",
]
