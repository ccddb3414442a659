# Every target is one line a person could type.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The page tests drive Debian's Chromium (Playwright never downloads a browser here).
CHROMIUM := /usr/bin/chromium
# The scale-out tests run Debian's nginx in front of several instances.
NGINX := /usr/sbin/nginx
# `make run PORT=8001` when 8000 is taken.
PORT ?= 8000

.PHONY: run test lint lock test-sqlite test-postgresql fuzz bench soak clean

# Locked: exact versions with hashes. `make lock` re-resolves them from pyproject.toml.
LOCK := requirements.txt
DEV_LOCK := requirements-dev.txt
COMPILE := $(VENV)/bin/uv pip compile -q pyproject.toml --upgrade --generate-hashes --universal --python-version 3.11

$(STAMP): pyproject.toml $(DEV_LOCK)
	python3 -m venv $(VENV) && $(PY) -m pip install -q --require-hashes -r $(DEV_LOCK) && $(PY) -m pip install -q --no-deps -e . && touch $(STAMP)

$(CHROMIUM):
	apt-get update -q && apt-get install -y -q chromium

$(NGINX):
	apt-get update -q && apt-get install -y -q nginx

run: $(STAMP)
	$(VENV)/bin/keyhouse serve --demo --port $(PORT)

test: lint test-sqlite test-postgresql

# The dev lock first; the runtime lock (with the redis extra) takes the same versions.
lock: $(STAMP)
	$(COMPILE) --extra dev -o $(DEV_LOCK) && $(COMPILE) --extra redis --extra metrics -c $(DEV_LOCK) -o $(LOCK)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples && $(VENV)/bin/ruff format --check src tests bench examples && $(VENV)/bin/mypy

test-sqlite: $(STAMP) $(CHROMIUM) $(NGINX)
	KEYHOUSE_TEST_DATABASE=sqlite $(PY) -m pytest

test-postgresql: $(STAMP) $(CHROMIUM) $(NGINX)
	KEYHOUSE_TEST_DATABASE=postgresql $(PY) -m pytest

# Long, random runs of the property and schema fuzzers on both databases (not part of `test`).
FUZZ_TESTS := tests/test_schema_fuzz.py tests/test_unstorable_input.py tests/oauth/test_form_properties.py tests/kit/test_token_properties.py tests/crm_accounts/test_criteria_properties.py

fuzz: $(STAMP)
	KEYHOUSE_FUZZ=long KEYHOUSE_TEST_DATABASE=sqlite $(PY) -m pytest -q --hypothesis-show-statistics $(FUZZ_TESTS) && KEYHOUSE_FUZZ=long KEYHOUSE_TEST_DATABASE=postgresql $(PY) -m pytest -q --hypothesis-show-statistics $(FUZZ_TESTS)

bench: $(STAMP)
	$(PY) bench/run.py

soak: $(STAMP)
	$(PY) bench/soak.py

clean:
	rm -rf $(VENV) var
