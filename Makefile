# The README's commands. Everything is installed into .venv from the package registries.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

WIDGET := src/virtuele_assistent/widget
WIDGET_JS := $(WIDGET)/dist/widget.js
WIDGET_DEPS := $(WIDGET)/node_modules/.package-lock.json

.PHONY: setup demo test lint format serve clean browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (set PYTHON=python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# The chat widget: TypeScript built with the machine's Node.js/npm from the npm registry.
$(WIDGET_DEPS): $(WIDGET)/package.json $(WIDGET)/package-lock.json
	cd $(WIDGET) && npm ci --no-audit --no-fund
$(WIDGET_JS): $(WIDGET_DEPS) $(WIDGET)/build.mjs $(WIDGET)/tsconfig.json $(wildcard $(WIDGET)/src/*.ts)
	cd $(WIDGET) && npm run build

## setup: create .venv and install the package with its test tools; build the chat widget
setup: $(STAMP) $(WIDGET_JS)

# Browser tests drive Debian's Chromium; install it only when it is missing.
browser:
	@test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

## demo: set up, index the demo municipality and run the assistant on http://127.0.0.1:8000
demo: setup
	$(BIN)/va demo

## test: set up and run linters, type checks and the whole test suite
test: setup browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check src tests benchmarks

format: setup
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

serve: setup
	$(BIN)/va serve

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache test-artifacts $(WIDGET)/node_modules $(WIDGET)/dist
