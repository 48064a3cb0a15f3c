"""All models, imported here so alembic and the app see the whole schema."""
from caseapp.models import (  # noqa: F401
    accounts,
    assignments,
    audit,
    cases,
    catalogues,
    indicators,
    keys,
    legal,
    notifications,
    publication,
    referrals,
    route,
    safety,
)
from caseapp.models.accounts import (  # noqa: F401
    AccountChangeRequest,
    ApiToken,
    Entity,
    RecoveryCode,
    Setting,
    Submission,
    User,
    UserRole,
    UserSession,
)
from caseapp.models.assignments import CaseAssignment  # noqa: F401
from caseapp.models.attachments import CaseAttachment  # noqa: F401
from caseapp.models.audit import AuditEvent  # noqa: F401
from caseapp.models.cases import Case, Consent, IdentificationScreening, IndirectVictim  # noqa: F401
from caseapp.models.catalogues import ExploitationPurpose  # noqa: F401
from caseapp.models.keys import DataKey  # noqa: F401
from caseapp.models.legal import LegalStageChange  # noqa: F401
from caseapp.models.notifications import MailOutbox, Notification  # noqa: F401
from caseapp.models.referrals import Referral  # noqa: F401
from caseapp.models.safety import FamilyStep, SafetyFlag  # noqa: F401
from caseapp.models.victims import Victim  # noqa: F401
