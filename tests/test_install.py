"""`pip install .` gives the whole app: a wheel built from the repository, installed into a fresh virtual
environment and run from an empty folder, migrates its database and answers in Spanish.

The wheel is built (with build isolation, as pip does) from a copy of the repository without any compiled
catalogue, so the Spanish comes from the build hook, not from a `make translations` left in the tree. The new
environment gets Ruta only from the wheel; its dependencies come from the running environment through a .pth
file (no network, no time spent installing them again), and the test checks that caseapp is the wheel's copy.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.real_clock]

# Whatever the environment points at the source tree or at a database must not reach the installed app.
SCRUBBED = ("PYTHONPATH", "FLASK_APP", "DATABASE_URL", "SECRET_KEY", "CASEAPP_CONFIG", "CASEAPP_INSTANCE_PATH",
            "CASEAPP_KEYRING", "CASEAPP_CIPHER", "CASEAPP_AUDIT_DISABLED", "RUTA_TEST_DATABASE_URL")

PROBE = """
import caseapp, wsgi
client = wsgi.app.test_client()
page = client.get("/auth/login").get_data(as_text=True)
print("CASEAPP", caseapp.__file__)
print("PAGE", page)
"""


def _repository_copy(dest: Path) -> Path:
    """The repository as a clone has it: no virtualenv, instance, build output or compiled catalogue."""
    ignore = shutil.ignore_patterns(".git", ".venv", "instance", "build", "*.egg-info", "__pycache__", "*.pyc",
                                    "*.mo", "LC_MESSAGES", ".pytest_cache", ".ruff_cache", ".hypothesis",
                                    "test-artifacts", "out")
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def _run(args, cwd, env, timeout=300) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = _repository_copy(work / "src")
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work / "dist"),
          str(source)], cwd=work, env=env)
    (built,) = (work / "dist").glob("ruta-*.whl")
    return built


def test_the_wheel_carries_templates_migrations_catalogues_and_static_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for locale in ("es_CO", "en"):
        assert f"caseapp/translations/{locale}/LC_MESSAGES/messages.mo" in names
    templates = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*.html"))
    assert templates and all(f"caseapp/{t}" in names for t in templates)
    versions = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "migrations" / "versions").glob("*.py"))
    assert versions and all(f"caseapp/{v}" in names for v in versions)
    for needed in ("caseapp/migrations/env.py", "caseapp/migrations/alembic.ini",
                   "caseapp/migrations/script.py.mako", "config.py", "wsgi.py"):
        assert needed in names
    static = [p.relative_to(ROOT).as_posix() for p in (ROOT / "caseapp" / "static").rglob("*") if p.is_file()]
    assert static and all(s in names for s in static)
    assert not any("__pycache__" in n or n.startswith(("tests/", "bench/", "instance/")) for n in names)


def test_installed_wheel_migrates_and_answers_in_spanish_from_an_empty_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=dict(os.environ))
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], cwd=tmp_path, env=env)
    # The dependencies, from the running environment (added after the install, so pip never sees a Ruta there).
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp_path, env=env).strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_running_env_deps.pth").write_text("\n".join(sorted(deps)) + "\n")

    empty = tmp_path / "empty"
    empty.mkdir()
    out = _run([python, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=empty, env=env)
    assert "Running upgrade" in out
    current = _run([python, "-m", "flask", "--app", "wsgi", "db", "current"], cwd=empty, env=env)
    assert "(head)" in current
    # The development default: a private instance folder in the working folder, never in site-packages.
    assert (empty / "instance" / "ruta.sqlite3").is_file()
    assert (empty / "instance").stat().st_mode & 0o077 == 0

    out = _run([python, "-c", PROBE], cwd=empty, env=env)
    caseapp_file = Path(out.split("CASEAPP ", 1)[1].splitlines()[0])
    assert caseapp_file.is_relative_to(venv), f"caseapp came from {caseapp_file}, not from the wheel"
    page = out.split("PAGE ", 1)[1]
    assert "<h1>Ingresar</h1>" in page
    assert "Sign in" not in page
