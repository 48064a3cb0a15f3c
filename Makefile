# Ruta: the two commands of the README.
#   make run    set up, migrate a SQLite database in instance/, load the demo, and serve on http://127.0.0.1:5000
#   make test   set up and run the whole test suite: ruff (with bandit's S rules), the import-linter contracts,
#               the translation check, pytest.
#               RUTA_TEST_DATABASE_URL=postgresql+psycopg://user:pass@host:port/postgres runs it on PostgreSQL.
# Needs only Python >= 3.11 (with its venv module) and make.
# Every package comes from a lock file with hashes (requirements/run.txt, requirements/test.txt; `make lock`
# regenerates them from pyproject.toml); Ruta itself is then installed editable, without its dependencies.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
LINT_PATHS = caseapp tests bench scripts config.py wsgi.py gunicorn.conf.py setup.py
export FLASK_APP = wsgi.py
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: run test setup setup-test translations lint check-translations pytest clean lock

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "Ruta needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1). Try: make PYTHON=python3.11 ..." >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Could not create the virtual environment. On Debian/Ubuntu: apt-get install python3-venv" >&2; exit 1; }

# The lock (pip and setuptools included, so the editable install needs no unpinned download), then Ruta itself.
INSTALL_LOCKED = $(BIN)/python -m pip install --quiet --require-hashes -r
INSTALL_SELF = $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .

$(VENV)/.installed: pyproject.toml requirements/run.txt | $(BIN)/python
	$(INSTALL_LOCKED) requirements/run.txt
	$(INSTALL_SELF)
	touch $@

$(VENV)/.installed-test: pyproject.toml requirements/test.txt | $(BIN)/python
	$(INSTALL_LOCKED) requirements/test.txt
	$(INSTALL_SELF)
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed translations

setup-test: $(VENV)/.installed-test translations

translations: | $(BIN)/python
	$(BIN)/python -m caseapp.i18n_catalog compile

run: setup
	$(BIN)/flask keys init
	$(BIN)/flask db upgrade
	$(BIN)/flask demo --url http://$(HOST):$(PORT)/
	@echo
	@echo "Ruta is running at http://$(HOST):$(PORT)/  (log in with one of the demo accounts above; Ctrl+C to stop)"
	@echo
	$(BIN)/flask run --host $(HOST) --port $(PORT) --no-reload

lint: setup-test
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/lint-imports

check-translations: setup-test
	$(BIN)/python -m caseapp.i18n_catalog check

# pytest exits 5 when it collected no test: never a pass (a broken collection or a filter that matches nothing).
pytest: setup-test
	@status=0; $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure" >&2; exit 1; fi; \
	exit $$status

# All three run even when one fails (the whole picture in one go); the target fails if any did.
test: setup-test
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	$(MAKE) --no-print-directory check-translations || status=1; \
	$(MAKE) --no-print-directory pytest || status=1; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (see above)" >&2; fi; \
	exit $$status

# Regenerate the lock files from pyproject.toml (Python 3.11, Linux), keeping every pin that still fits; to move
# one package: make lock LOCK_ARGS="--upgrade-package NAME". tests/test_dependencies.py checks they agree.
LOCK_ARGS ?=
# production.txt: the runtime alone (README, Production); run.txt adds the demo; test.txt adds the tests.
LOCK = $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 --python-platform linux \
	--custom-compile-command 'make lock' $(LOCK_ARGS) pyproject.toml requirements/build.in
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv>=0.9,<1'
	$(LOCK) -o requirements/production.txt
	$(LOCK) --extra demo -o requirements/run.txt
	$(LOCK) --extra demo --extra test -o requirements/test.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
