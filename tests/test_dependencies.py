"""Dependencies are declared, capped and locked: every third-party module the app imports is a declared
dependency of pyproject.toml (Faker only for the demo), every requirement caps its major, the lock files pin every
one of them inside its range with hashes, the demo says how to get Faker instead of failing without it, and the
deployment example's login-throttling store works with what the install provides."""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from limits.storage import storage_from_string
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
RUNTIME = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
EXTRAS = {name: [Requirement(r) for r in reqs] for name, reqs in PYPROJECT["project"]["optional-dependencies"].items()}
BUILD = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]

# Requirements without an upper bound, each with its reason.
UNCAPPED = {
    "tzdata": "the time zone database is versioned by date: a cap would only hold back time zone updates",
}
# What is shipped and imported by the installed app (the wheel carries config.py, wsgi.py and migrations/).
APP_SOURCES = ["caseapp", "config.py", "wsgi.py", "migrations"]
FIRST_PARTY = {"caseapp", "config", "wsgi"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - FIRST_PARTY - set(sys.stdlib_module_names)


def _third_party_imports() -> dict[str, set[Path]]:
    found: dict[str, set[Path]] = {}
    for source in APP_SOURCES:
        base = ROOT / source
        for path in [base] if base.is_file() else sorted(base.rglob("*.py")):
            for name in _imports(path):
                found.setdefault(name, set()).add(path.relative_to(ROOT))
    return found


def _declared(requirements) -> set[str]:
    return {canonicalize_name(r.name) for r in requirements}


def test_every_module_the_app_imports_is_a_declared_dependency():
    distributions = packages_distributions()
    runtime, demo = _declared(RUNTIME), _declared(EXTRAS["demo"])
    problems = []
    for module, where in sorted(_third_party_imports().items()):
        dists = {canonicalize_name(d) for d in distributions.get(module, [])}
        only_demo = all(p.parts[:2] == ("caseapp", "demo") for p in where)
        allowed = runtime | demo if only_demo else runtime
        if not dists & allowed:
            problems.append(f"{module} (distribution {sorted(dists) or 'unknown'}) imported by "
                            f"{sorted(map(str, where))[:3]} is not declared{' in demo' if only_demo else ''}")
    assert not problems, "\n".join(problems)
    assert _third_party_imports().keys() >= {"wtforms", "babel", "itsdangerous"}  # the walk sees them


def test_faker_is_for_the_demo_alone():
    assert "faker" not in _declared(RUNTIME)
    assert "faker" in _declared(EXTRAS["demo"])
    outside_demo = {p for p in _third_party_imports().get("faker", set()) if p.parts[:2] != ("caseapp", "demo")}
    assert not outside_demo


@pytest.mark.parametrize("requirement", RUNTIME + BUILD + [r for reqs in EXTRAS.values() for r in reqs],
                         ids=lambda r: str(r))
def test_every_requirement_caps_its_major(requirement):
    if canonicalize_name(requirement.name) in UNCAPPED:
        return
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), (
        f"{requirement} has no upper bound")


def _lock(name: str) -> dict[str, str]:
    """{distribution: version} of a lock file; fails on a pin without hashes or a line that is not a pin."""
    text = (ROOT / "requirements" / name).read_text()
    pins = {}
    for block in re.split(r"\n(?=\S)", text):
        first = block.split("\\", 1)[0].strip()
        if not first or first.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?==([^\s;]+)(\s*;.*)?", first)
        assert match, f"{name}: not an exact pin: {first!r}"
        assert "--hash=sha256:" in block, f"{name}: {first} has no hash"
        pins[canonicalize_name(match.group(1))] = match.group(3)
    return pins


def _build_in() -> list[Requirement]:
    lines = (ROOT / "requirements" / "build.in").read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(("lock", "extras"),
                         [("production.txt", []), ("run.txt", ["demo"]), ("test.txt", ["demo", "test"])])
def test_the_lock_pins_every_declared_dependency_inside_its_range(lock, extras):
    pins = _lock(lock)
    wanted = RUNTIME + BUILD + _build_in() + [r for extra in extras for r in EXTRAS[extra]]
    problems = []
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement} is not in requirements/{lock}")
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            problems.append(f"requirements/{lock} pins {name}=={pins[name]}, outside {requirement}")
    assert not problems, "\n".join(problems) + "\n(run `make lock`)"


def test_each_lock_holds_the_smaller_one_and_production_has_no_demo():
    production, run, test = _lock("production.txt"), _lock("run.txt"), _lock("test.txt")
    assert {name: run.get(name) for name in production} == production
    assert {name: test.get(name) for name in run} == run
    assert "faker" not in production


def test_make_and_ci_install_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r" in makefile
    for lock in ("requirements/production.txt", "requirements/run.txt", "requirements/test.txt"):
        assert lock in makefile
    assert re.search(r"^lock:", makefile, re.M)
    assert "--no-deps" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()  # CI installs through make, so from the lock


@pytest.mark.real_clock
def test_demo_without_faker_says_how_to_install_it(tmp_path):
    # A Python where `import faker` fails, as in an install without the demo extra.
    script = ("import sys; sys.modules['faker'] = None\n"
              "from flask.cli import main\n"
              "sys.argv = ['flask', '--app', 'wsgi', 'demo']\n"
              "main()\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEAPP_", "RUTA_")) and k != "DATABASE_URL"}
    env.update(PYTHONPATH=str(ROOT), CASEAPP_INSTANCE_PATH=str(tmp_path / "instance"))
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "Faker" in done.stderr and "pip install '.[demo]'" in done.stderr
    assert "Los datos de demostración necesitan Faker" in done.stderr


def test_the_deployment_example_uses_a_store_the_install_provides():
    example = (ROOT / "deploy" / "ruta.env.example").read_text()
    (uri,) = re.findall(r"^RATELIMIT_STORAGE_URI=(\S+)", example, re.M)
    storage_from_string(uri)  # raises ConfigurationError when the store's client library is not installed
    # A shared Redis store is documented, with the extra that brings its client.
    assert "ruta[redis]" in example
    assert any(canonicalize_name(r.name) == "limits" and "redis" in r.extras for r in EXTRAS["redis"])
    # The example runs the app from the installed wheel, whatever the working folder.
    assert re.search(r"^FLASK_APP=wsgi$", example, re.M)
