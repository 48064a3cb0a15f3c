"""Configuration: production refuses unsafe settings; development makes a missing instance folder usable."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import config
from caseapp import create_app

GOOD_SECRET = "k" * 20 + "-not-a-default-secret-0123456789"  # noqa: S105 - test value, 52 characters
ENV_VARS = ("SECRET_KEY", "DATABASE_URL", "CASEAPP_KEYRING", "CASEAPP_CIPHER", "CASEAPP_AUDIT_DISABLED",
            "RATELIMIT_STORAGE_URI", "CASEAPP_CONFIG")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A clean environment whose instance folder does not exist yet."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CASEAPP_LOG_FORMAT", "text")  # keep the process-wide "caseapp" logger as pytest set it
    instance = tmp_path / "brand-new-instance"
    monkeypatch.setenv("CASEAPP_INSTANCE_PATH", str(instance))
    return instance


def _production_env(monkeypatch, tmp_path, **values):
    monkeypatch.setenv("SECRET_KEY", values.get("SECRET_KEY", GOOD_SECRET))
    monkeypatch.setenv("DATABASE_URL", values.get("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}"))


def test_production_loads_with_a_real_secret_and_database(env, monkeypatch, tmp_path):
    _production_env(monkeypatch, tmp_path)
    cfg = config.load("production")
    assert cfg.SECRET_KEY == GOOD_SECRET
    assert cfg.SESSION_COOKIE_SECURE is True
    assert not env.exists(), "production never creates an instance folder or a secret on its own"


def test_production_is_selected_by_environment(env, monkeypatch, tmp_path):
    _production_env(monkeypatch, tmp_path)
    monkeypatch.setenv("CASEAPP_CONFIG", "production")
    assert config.load().NAME == "production"


def test_production_refuses_a_missing_secret_key(env, monkeypatch, tmp_path):
    _production_env(monkeypatch, tmp_path)
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.load("production")


@pytest.mark.parametrize("secret", [config.DEV_SECRET_PLACEHOLDER, "short-secret", "x" * 31])
def test_production_refuses_a_default_or_short_secret_key(env, monkeypatch, tmp_path, secret):
    _production_env(monkeypatch, tmp_path, SECRET_KEY=secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.load("production")


def test_production_refuses_to_run_without_database_url(env, monkeypatch, tmp_path):
    _production_env(monkeypatch, tmp_path)
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        config.load("production")


@pytest.mark.parametrize("override", [{"CIPHER": "null"}, {"AUDIT_DISABLED": True}])
def test_production_refuses_the_null_cipher_and_a_disabled_access_log(env, monkeypatch, tmp_path, override):
    _production_env(monkeypatch, tmp_path)
    with pytest.raises(RuntimeError, match="benchmark-only"):
        config.load("production", **override)


def test_production_ignores_the_benchmark_switches_in_the_environment(env, monkeypatch, tmp_path):
    _production_env(monkeypatch, tmp_path)
    monkeypatch.setenv("CASEAPP_CIPHER", "null")
    monkeypatch.setenv("CASEAPP_AUDIT_DISABLED", "1")
    cfg = config.load("production")
    assert cfg.CIPHER == "aesgcm"
    assert cfg.AUDIT_DISABLED is False


def test_two_processes_creating_the_instance_at_once_share_one_whole_key(env, monkeypatch):
    """Two processes starting on a new instance folder at once (the suite's workers, collecting): each looks, finds
    no key, and writes one. The second finds the first's key, whole, and uses it (it failed with FileExistsError)."""
    first = config.load("development").SECRET_KEY
    real_exists = Path.exists
    with monkeypatch.context() as second_process:  # it looked before the first's key was there
        second_process.setattr(Path, "exists", lambda p: False if p.name == "secret_key" else real_exists(p))
        config.ensure_dev_instance(env)
    second = config.load("development").SECRET_KEY
    assert second == first == (env / "secret_key").read_text().strip()
    assert sorted(p.name for p in env.iterdir() if "secret" in p.name) == ["secret_key"]  # no spare left behind


def test_unknown_configuration_name_is_refused(env):
    with pytest.raises(RuntimeError, match="unknown CASEAPP_CONFIG"):
        config.load("staging")


def test_development_creates_a_missing_instance_folder_with_a_random_secret(env):
    cfg = config.load("development")
    secret_file = env / "secret_key"
    assert env.is_dir() and secret_file.is_file()
    secret = secret_file.read_text().strip()
    assert cfg.SECRET_KEY == secret
    assert len(secret) >= 32 and secret != config.DEV_SECRET_PLACEHOLDER
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert cfg.SQLALCHEMY_DATABASE_URI == f"sqlite:///{env / 'ruta.sqlite3'}"
    # The secret stays the same on the next start, and another instance gets its own.
    assert config.load("development").SECRET_KEY == secret


def test_two_new_instances_get_different_secrets(tmp_path, monkeypatch):
    secrets_seen = set()
    for name in ("one", "two"):
        monkeypatch.delenv("SECRET_KEY", raising=False)
        monkeypatch.setenv("CASEAPP_INSTANCE_PATH", str(tmp_path / name))
        secrets_seen.add(config.load("development").SECRET_KEY)
    assert len(secrets_seen) == 2


def test_environment_overrides_database_and_rate_limit_storage(env, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    cfg = config.load("development")
    assert cfg.SQLALCHEMY_DATABASE_URI.endswith("elsewhere.sqlite3")
    assert cfg.RATELIMIT_STORAGE_URI == "memory://"


def test_production_app_has_secure_cookies(env, monkeypatch, tmp_path):
    _production_env(monkeypatch, tmp_path)
    app = create_app(config.load("production"))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert app.config.get("DEMO_ALLOWED") is False


def test_flask_db_upgrade_works_in_a_brand_new_instance_folder(env):
    """The README's first steps: a new folder, `flask keys init`, `flask db upgrade`."""
    root = Path(config.ROOT)
    clean = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    clean.update(CASEAPP_INSTANCE_PATH=str(env), FLASK_APP="wsgi.py")
    flask = [sys.executable, "-m", "flask"]
    for command in (["keys", "init"], ["db", "upgrade"]):
        result = subprocess.run(flask + command, cwd=root, env=clean, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert (env / "ruta.sqlite3").is_file()
    assert (env / "keyring.json").is_file()
    assert stat.S_IMODE((env / "keyring.json").stat().st_mode) == 0o600


def test_an_sqlite_too_old_for_the_apps_statements_is_refused_at_start_with_the_reason(env, monkeypatch):
    """RETURNING (ending a user's sessions) needs SQLite 3.35: an older one is named at start, not met at the first
    logout everywhere. PostgreSQL is not asked."""
    import sqlite3

    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(RuntimeError, match=r"SQLite 3\.35 or newer.*3\.31\.1"):
        create_app(config.load("development"))
    create_app(config.load("development", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none"))
