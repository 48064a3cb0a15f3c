# Ruta: the two commands of the README.
#   make run    set up, migrate a SQLite database in instance/, load the demo, and serve on http://127.0.0.1:5000
#   make test   set up and run the whole test suite (RUTA_TEST_DATABASE_URL=postgresql://... runs it on PostgreSQL)
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP = wsgi.py

.PHONY: run test setup setup-test translations lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed translations

setup-test: $(VENV)/.installed-test translations

translations: | $(BIN)/python
	$(BIN)/python -m caseapp.i18n_catalog compile

run: setup
	$(BIN)/flask keys init
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	@echo "Ruta is running at http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

lint: setup-test
	$(BIN)/ruff check caseapp tests bench config.py wsgi.py scripts

test: setup-test lint
	$(BIN)/python -m caseapp.i18n_catalog check
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
