"""Accounts and entities: sign-in with the second factor, sessions, the password policy, and the
administration of users and entities (admin screens and the `flask users|entities` CLI)."""
from caseapp.services.accounts.administration import (
    CLI,
    SystemActor,
    normalise_entity_code,
    normalise_username,
)
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
    address_throttled,
    authenticate,
    change_password,
    confirm_enrolment,
    enrolment,
    is_locked,
    logout,
    logout_everywhere,
    match_totp,
    overview,
    pending_state,
    regenerate_recovery_codes,
    remaining_recovery_codes,
    set_locale,
    use_recovery_code,
    verify_second_factor,
)
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
    reset_totp,
    revoke_tokens,
    update_user,
)

__all__ = [
    "CLI", "Enrolment", "LoginFailed", "SystemActor", "UserPage", "address_throttled", "authenticate",
    "change_password", "confirm_enrolment", "create_entity", "create_user", "deactivate_entity", "deactivate_user",
    "end_sessions", "enrolment", "entity_directory", "get_entity", "get_user", "is_locked", "issue_token", "list_entities",
    "list_users", "live_session_count", "live_token_count", "logout", "logout_everywhere", "match_totp",
    "normalise_entity_code", "normalise_username", "overview", "pending_state", "reactivate_entity",
    "reactivate_user", "regenerate_recovery_codes", "remaining_recovery_codes", "reset_totp", "revoke_tokens",
    "set_locale", "update_entity", "update_user", "use_recovery_code", "verify_second_factor",
]
