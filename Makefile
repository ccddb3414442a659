# Every target is one line a person could type.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint test-sqlite test-postgresql bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV) && $(PY) -m pip install -q --upgrade pip && $(PY) -m pip install -q -e '.[dev]' && touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/keyhouse serve --demo

test: lint test-sqlite test-postgresql

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench migrations examples && $(VENV)/bin/ruff format --check src tests bench migrations examples && $(VENV)/bin/mypy

test-sqlite: $(STAMP)
	KEYHOUSE_TEST_DATABASE=sqlite $(PY) -m pytest

test-postgresql: $(STAMP)
	KEYHOUSE_TEST_DATABASE=postgresql $(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var
