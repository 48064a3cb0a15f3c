"""Configuration classes: development (default), testing and production.

Imported by wsgi.py and tests/conftest.py and handed to create_app(), so caseapp never imports it.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# A source checkout keeps its instance/ next to this file; installed from a wheel, this file is in site-packages,
# so the default is ./instance of the working folder (production sets CASEAPP_INSTANCE_PATH).
DEFAULT_INSTANCE = ROOT / "instance" if (ROOT / "pyproject.toml").is_file() else Path("instance")
DEV_SECRET_PLACEHOLDER = "dev-not-secret"  # noqa: S105 - refused by Production.check()


class Base:
    NAME = "base"
    SECRET_KEY = DEV_SECRET_PLACEHOLDER
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Sessions (NIST SP 800-63B AAL2): server-side record, idle 30 min, absolute 12 h.
    SESSION_COOKIE_NAME = "ruta_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # The idle and absolute timeouts live in the server-side session record: the cookie is not re-sent on every
    # response (a static file's late answer would otherwise put back a cookie the browser had just dropped).
    SESSION_REFRESH_EACH_REQUEST = False
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    # Login throttling by growing delays, never a lockout (services/accounts/throttle.py): per key kind, the
    # failures that cost nothing and the longest wait. The account's cap stays small so that a stranger cannot
    # keep its owner out; the pair (account, address) grows to minutes.
    LOGIN_THROTTLE = {
        "pair": (3, timedelta(minutes=5)),
        "account": (10, timedelta(seconds=30)),
        "address": (20, timedelta(minutes=1)),
        "device": (3, timedelta(minutes=5)),  # a known device of the account, as the pair
    }
    LOGIN_THROTTLE_WINDOW = timedelta(minutes=15)
    LOGIN_PENDING_TTL = timedelta(minutes=5)  # between the password and the second factor
    # Wrong second-factor codes in a row after which it stops answering until an admin resets it (NIST: <= 100).
    LOGIN_MAX_CODE_FAILURES = 20
    # API tokens: lifetime at creation (`flask users token --days`) and its upper bound.
    API_TOKEN_DAYS = 90
    API_TOKEN_MAX_DAYS = 365
    # The duplicate check names another entity that may hold a case at most this many times a day to one user
    # (counted in the access log, so shared by every app server); beyond that it only says a case may exist.
    DUPLICATE_HINTS_PER_DAY = 5
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False

    # Passwords: OWASP Argon2id minimums are m=19 MiB, t=2, p=1.
    ARGON2_MEMORY_KIB = 19456
    ARGON2_TIME_COST = 2
    ARGON2_PARALLELISM = 1
    PASSWORD_MIN_LENGTH = 12
    PASSWORD_MAX_LENGTH = 128

    # Bodies: Flask's own default (None) would read and parse a body of any size. 10 MiB leaves room for a plans
    # workbook; a form's text fields together stay under 1 MiB (a 4,000-character note is 16 KiB at most).
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    # The protected publication of counts: released once a month, when the month closes ("monthly"), or also counted
    # again when the data changed and it is older than PUBLICATION_MAX_AGE_MINUTES ("on_change"). Every release is
    # protected against every value the year's earlier releases published, so more releases mean more cells held
    # back (a count that moved by 1 to k-1 since): monthly is the default.
    PUBLICATION_REFRESH = os.environ.get("RUTA_PUBLICATION_REFRESH", "monthly")
    PUBLICATION_MAX_AGE_MINUTES = int(os.environ.get("RUTA_PUBLICATION_MAX_AGE_MINUTES", "60"))
    # Reads never count: an out-of-date publication is counted in a background thread of the server that read it
    # ("background"), and by `flask stats publish --stale` from cron (README). Tests count during the read
    # ("inline"), so that a test reads what it has just written.
    PUBLICATION_BUILD = "background"
    MAX_FORM_MEMORY_SIZE = 1024 * 1024

    # E-mail of notifications, optional (no RUTA_SMTP_HOST: in-app only). A message says only "Tiene una novedad
    # en Ruta" and links to RUTA_BASE_URL + /notifications/: never a name, a case code, an entity or any detail.
    # Queued in the database with the change that caused it, sent by `flask notifications mail` (cron).
    SMTP_HOST = os.environ.get("RUTA_SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("RUTA_SMTP_PORT", "587"))
    SMTP_USER = os.environ.get("RUTA_SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("RUTA_SMTP_PASSWORD", "")
    SMTP_FROM = os.environ.get("RUTA_SMTP_FROM", "ruta@localhost")
    SMTP_STARTTLS = os.environ.get("RUTA_SMTP_STARTTLS", "true").strip().lower() in ("1", "true", "yes")
    SMTP_TIMEOUT = 10
    BASE_URL = os.environ.get("RUTA_BASE_URL", "")
    MAX_FORM_PARTS = 1000

    WTF_CSRF_TIME_LIMIT = 3600
    BABEL_DEFAULT_LOCALE = "es_CO"
    BABEL_DEFAULT_TIMEZONE = "America/Bogota"
    LANGUAGES = ("es_CO", "en")
    TIMEZONE = "America/Bogota"

    # Encryption: "aesgcm" always, except the benchmark's null cipher (never in production).
    CIPHER = "aesgcm"
    KEYRING_JSON: str | None = None  # production: the keyring itself, from CASEAPP_KEYRING
    KEYRING_AUTOCREATE = False
    # How many victims the deployment plans to register over its life (RUTA_PLANNED_VICTIMS): it sizes the blind
    # indexes so that each value is shared by 2 to sqrt(rows) victims (README, "Blind indexes"). Cartagena: ~1,000.
    PLANNED_VICTIMS = 1000

    AUDIT_DISABLED = False  # benchmark-only switch, refused in production
    # When appended access-log rows are sealed into the chain: "commit" (at every commit that appended some) or
    # "deferred" (only by `flask audit seal`, the auditor's console, verify and anchors). See caseapp.audit.
    AUDIT_SEAL = os.environ.get("RUTA_AUDIT_SEAL", "commit")
    SERVER_TIMING = False  # benchmark-only: the Server-Timing header would be a timing oracle
    PAGE_SIZE = 50
    DEMO_ALLOWED = False
    INSTANCE_PATH: str = str(DEFAULT_INSTANCE)

    def check(self) -> None:
        """Refuse configurations that would be unsafe to run."""
        if self.AUDIT_SEAL not in ("commit", "deferred"):
            raise RuntimeError("RUTA_AUDIT_SEAL is 'commit' or 'deferred'")


class Development(Base):
    NAME = "development"
    KEYRING_AUTOCREATE = True
    DEMO_ALLOWED = True


class Testing(Base):
    NAME = "testing"
    TESTING = True
    PUBLICATION_REFRESH = "on_change"
    PUBLICATION_MAX_AGE_MINUTES = 0  # every request reads the data it has just written
    PUBLICATION_BUILD = "inline"
    KEYRING_AUTOCREATE = True
    DEMO_ALLOWED = True
    RATELIMIT_ENABLED = True
    SMTP_HOST = ""  # a test that sends e-mail starts its own SMTP server and points here
    BASE_URL = "http://ruta.test"


class Production(Base):
    NAME = "production"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_SAMESITE = "Strict"
    PREFERRED_URL_SCHEME = "https"

    def check(self) -> None:
        super().check()
        if not self.SECRET_KEY or self.SECRET_KEY == DEV_SECRET_PLACEHOLDER or len(self.SECRET_KEY) < 32:
            raise RuntimeError("SECRET_KEY must be set to a random value of at least 32 characters in production")
        if not self.SQLALCHEMY_DATABASE_URI:
            raise RuntimeError("DATABASE_URL must be set in production")
        if self.CIPHER != "aesgcm" or self.AUDIT_DISABLED or self.SERVER_TIMING:
            raise RuntimeError("the null cipher and a disabled access log are benchmark-only")


CONFIGS = {"development": Development, "testing": Testing, "production": Production}


def _read_instance_secret(instance: Path) -> str | None:
    path = instance / "secret_key"
    return path.read_text().strip() if path.exists() else None


def secure_instance(instance: Path) -> None:
    """Owner-only instance folder: 700 for it and its folders, 600 for its files, even when it already existed.

    `mkdir(mode=0o700)` does nothing to a folder that exists, and git checks the folder out as 755; the SQLite
    file, the keyring and the backups live here. Files that belong to another user are left as they are."""
    if not instance.is_dir():
        return
    uid = os.getuid()
    for path in [instance, *instance.rglob("*")]:
        if path.is_symlink() or path.lstat().st_uid != uid:
            continue
        path.chmod(0o700 if path.is_dir() else 0o600)


def ensure_dev_instance(instance: Path) -> None:
    """Create a missing or empty development instance folder with a random secret key."""
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = instance / "secret_key"
    if path.exists():
        return
    # Written whole under a name of its own (owner-only from the start: mkstemp's 600), then linked into place. Two
    # processes starting on a new folder at once (the test suite's workers, each loading the app to collect its
    # tests) both find one complete key: the second's link fails and its own is dropped. Created in place, the
    # second failed with FileExistsError, or could read the first's file before its key was written.
    fd, spare = tempfile.mkstemp(dir=instance, prefix=".secret_key.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(spare, path)
    finally:
        os.unlink(spare)


def load(name: str | None = None, **overrides) -> Base:
    """Build the configuration named by `name` or CASEAPP_CONFIG (default: development) from the environment."""
    name = name or os.environ.get("CASEAPP_CONFIG", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"unknown CASEAPP_CONFIG {name!r}; use one of {sorted(CONFIGS)}")
    cfg = CONFIGS[name]()
    instance = Path(os.environ.get("CASEAPP_INSTANCE_PATH", DEFAULT_INSTANCE)).resolve()
    cfg.INSTANCE_PATH = str(instance)
    if name != "production":
        ensure_dev_instance(instance)
    secure_instance(instance)
    cfg.SECRET_KEY = os.environ.get("SECRET_KEY") or _read_instance_secret(instance) or cfg.SECRET_KEY
    cfg.SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (
        None if name == "production" else f"sqlite:///{instance / 'ruta.sqlite3'}"
    )
    cfg.KEYRING_JSON = os.environ.get("CASEAPP_KEYRING") or None
    if os.environ.get("RUTA_PLANNED_VICTIMS"):
        cfg.PLANNED_VICTIMS = int(os.environ["RUTA_PLANNED_VICTIMS"])
    if os.environ.get("RATELIMIT_STORAGE_URI"):
        cfg.RATELIMIT_STORAGE_URI = os.environ["RATELIMIT_STORAGE_URI"]
    if name != "production":
        cfg.CIPHER = os.environ.get("CASEAPP_CIPHER", cfg.CIPHER)
        cfg.AUDIT_DISABLED = os.environ.get("CASEAPP_AUDIT_DISABLED") == "1"
        cfg.SERVER_TIMING = os.environ.get("CASEAPP_SERVER_TIMING") == "1"
    for key, value in overrides.items():
        setattr(cfg, key, value)
    cfg.check()
    return cfg
