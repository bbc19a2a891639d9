# Developer entry points. On a fresh Debian machine with Python 3.11+, git and make:
#   make run    start the console with everything it needs (see README.md)
#   make test   the whole test suite (on SQLite, and its database suites again on a private
#               PostgreSQL), lint, format check and type check

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PO_FILES := $(wildcard locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test test-postgres lint format messages compilemessages debian-packages clean distclean

run: $(STAMP) compilemessages
	$(PY) scripts/run.py

# The suites that run a second time on PostgreSQL (a private server from Debian's packages,
# started and stopped by scripts/private_postgres.py): where transactions, row locks and
# concurrent writers matter, and the pages whose queries read the mirror's JSON. tests/core/test_database.py checks each pass's database.
POSTGRES_TESTS := tests/core/test_database.py tests/writes tests/webhooks $(wildcard tests/mirror) \
  tests/cards/test_changelist.py tests/core/test_dashboard.py \
  $(filter-out tests/writes/% tests/webhooks/%,$(wildcard tests/*/test_services.py))
PYTEST := $(VENV)/bin/pytest -n 2 --dist loadscope

# Every part runs even when one fails; the last line says which failed (and the exit status).
test: debian-packages $(STAMP) compilemessages
	@failed=""; trap 'echo "make test interrupted"; exit 130' INT TERM HUP; \
	echo "=== The whole suite on SQLite"; \
	env -u DATABASE_URL TEST_DATABASE_VENDOR=sqlite $(PYTEST) || failed+=", tests on SQLite"; \
	echo "=== Write queue, webhook and service suites on PostgreSQL"; \
	TEST_DATABASE_VENDOR=postgresql $(PY) scripts/private_postgres.py -- \
	  $(PYTEST) $(POSTGRES_TESTS) || failed+=", tests on PostgreSQL"; \
	$(VENV)/bin/ruff check . || failed+=", ruff check"; \
	$(VENV)/bin/ruff format --check . || failed+=", ruff format"; \
	$(VENV)/bin/mypy . || failed+=", mypy"; \
	if [[ -n $$failed ]]; then echo "make test FAILED: $${failed#, }"; exit 1; fi; \
	echo "make test passed: tests on SQLite and on PostgreSQL, ruff, mypy"

# Only the PostgreSQL pass (the same suites as in `make test`).
test-postgres: debian-packages $(STAMP) compilemessages
	TEST_DATABASE_VENDOR=postgresql $(PY) scripts/private_postgres.py -- $(PYTEST) $(POSTGRES_TESTS)

# redis-server, postgresql, chromium, gettext and python3-venv for the tests (installs only
# what is missing).
debian-packages:
	@bash scripts/ensure-debian-packages.sh

lint: $(STAMP)
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	$(VENV)/bin/mypy . || status=1; \
	exit $$status

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The virtualenv. Debian ships python3 without venv/ensurepip; install python3-venv if
# we may (root, or sudo), else say what to install. A failed attempt leaves a half-made
# .venv behind, so it is removed before trying again.
$(VENV)/bin/pip:
	@$(PYTHON) -m venv $(VENV) || { \
	  rm -rf $(VENV); \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "'$(PYTHON) -m venv' failed: install python3-venv (apt-get install python3-venv)." >&2; exit 1; fi; \
	  echo "Installing python3-venv with apt-get"; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y python3-venv \
	    && $(PYTHON) -m venv $(VENV); \
	}

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(VENV)/bin/pip
	$(VENV)/bin/pip install -e '.[dev,postgres]'
	@touch $@

# Compiled translations are committed, so a machine without gettext still has them;
# with msgfmt present they are rebuilt whenever a .po file is newer.
compilemessages: $(MO_FILES)

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | $(STAMP)
	@if command -v msgfmt >/dev/null 2>&1; then \
	  $(PY) manage.py compilemessages --locale $* --ignore '.venv' --ignore 'staticfiles'; \
	else \
	  echo "msgfmt not found (apt-get install gettext): using the committed $@"; \
	fi

# Refresh the .po files from the source after changing translatable strings.
messages: $(STAMP)
	$(PY) manage.py makemessages --all --ignore '.venv' --ignore 'staticfiles' \
	  --ignore 'static' --ignore 'tests' --ignore 'docs'

clean:
	rm -rf staticfiles .pytest_cache .mypy_cache .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +

# Also the virtualenv and the local state: the database, the sandbox data and Redis's files.
distclean: clean
	rm -rf $(VENV) .run db.sqlite3
