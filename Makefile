# closeloop — the same commands locally and in CI.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup demo test check lint format typecheck imports bench lock clean

$(STAMP): pyproject.toml requirements.lock scripts/setup.sh
	@bash scripts/setup.sh

setup: $(STAMP)

## make demo: the main job on embedded defaults (SQLite, local mail folders, no keys)
demo: $(STAMP)
	$(BIN)/closeloop demo --workspace demo-workspace

## make test: the whole suite (SQLite, PostgreSQL when reachable — required under CI=true —,
## Dovecot IMAP and SMTP servers started by the tests themselves)
test: $(STAMP)
	@bash scripts/services.sh
	$(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)
	$(BIN)/closeloop eval inbox ../shared/eval/inbox --check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy billing policies tools storage connectors inbox render agent entrypoints

imports: $(STAMP)
	$(BIN)/lint-imports

## make check: every quality gate, then the tests
check: lint typecheck imports test

bench: $(STAMP)
	$(BIN)/python bench/render.py
	$(BIN)/python bench/chase.py
	$(BIN)/python bench/inbox.py

## make lock: re-pin requirements.lock from the current virtualenv
lock:
	$(BIN)/pip freeze --exclude-editable --disable-pip-version-check | grep -v '^closeloop' > requirements.lock

clean:
	rm -rf demo-workspace .pytest_cache .mypy_cache .ruff_cache
