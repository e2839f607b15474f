# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv on first use and reuse it afterwards.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install ui clean-workspace

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Simulate a brand (first time only) and run ingest -> warehouse -> propensity -> activation.
run: $(STAMP)
	$(BIN)/c360 run $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

ui: $(STAMP)
	$(BIN)/c360 ui

# Stop the embedded warehouse and delete the workspace (.c360/).
clean-workspace: $(STAMP)
	$(BIN)/c360 warehouse stop
	rm -rf .c360
