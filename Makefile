# The two commands a new user runs:  make demo   and   make test
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test venv lint sanity units contract integration examples molecule docs-lint bench bench-imported report clean

$(STAMP): requirements-dev.txt
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	PY=$(BIN)/python bash .ci/seed-get-pip.sh
	@touch $(STAMP)

venv: $(STAMP)

## Main job: bootstrap two environments' keys against the embedded emulator, rerun (changed=0), use the secrets.
demo: $(STAMP)
	@PATH=$(CURDIR)/$(BIN):$$PATH bash tests/demo/run.sh

## All tests: lint, docs, sanity, units, emulator contract, integration, molecule, benchmarks.
test: $(STAMP)
	@PATH=$(CURDIR)/$(BIN):$$PATH bash tests/run_tests.sh

# Single steps, for development.
lint sanity units contract integration examples molecule docs-lint bench bench-imported report: $(STAMP)
	@PATH=$(CURDIR)/$(BIN):$$PATH bash tests/run_tests.sh $@

clean:
	rm -rf $(VENV) tests/output .ansible collections
