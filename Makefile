# The two commands: `make run` and `make test`. Each sets up what it needs by itself.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run test lint venv clean

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

venv: $(VENV)/.installed

## Runs the whole system at http://127.0.0.1:8000 (embedded; or on RabbitMQ/PostgreSQL when
## GONGKAO_AMQP_URI and the database URLs are set).
run: venv
	PYTHONWARNINGS=ignore $(PY) -m deploy.run

## Runs lint and the whole test suite against the real RabbitMQ and PostgreSQL on 127.0.0.1,
## a headless Chromium, and a smoke test of `make run`.
test: venv
	@scripts/test-prerequisites.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	PYTHONWARNINGS=ignore $(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) var
