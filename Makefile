# The two commands a new user runs:  make demo   and   make test
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Every ansible-core minor in requires_ansible gets its own venv: .venv is the pin (2.19), .venv-2.18 the older minor.
VENV_2_18  ?= .venv-2.18
STAMP_2_18 := $(VENV_2_18)/.installed
MATRIX_2_18 := sanity-2.18 units-2.18 integration-2.18 examples-2.18

.PHONY: demo test venv lint sanity units contract integration examples rotation molecule awx eda docs-lint bench bench-imported report faults clean $(MATRIX_2_18)

$(STAMP): requirements-dev.txt
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	PY=$(BIN)/python bash .ci/seed-get-pip.sh
	@touch $(STAMP)

$(STAMP_2_18): requirements-2.18.txt
	@[ -x $(VENV_2_18)/bin/python ] || $(PYTHON) -m venv $(VENV_2_18)
	$(VENV_2_18)/bin/python -m pip install -q --disable-pip-version-check -r requirements-2.18.txt
	PY=$(VENV_2_18)/bin/python bash .ci/seed-get-pip.sh
	@touch $(STAMP_2_18)

venv: $(STAMP) $(STAMP_2_18)

## Main job: bootstrap two environments' keys against the embedded emulator, rerun (changed=0), use the secrets.
demo: $(STAMP)
	@PATH=$(CURDIR)/$(BIN):$$PATH bash tests/demo/run.sh

## All tests: lint, docs, sanity, units, emulator contract, integration, examples, molecule, AWX/EE, EDA, benchmarks,
## the fault matrix; sanity, units,
## integration and examples also on ansible-core 2.18 (the *-2.18 steps).
test: $(STAMP) $(STAMP_2_18)
	@PATH=$(CURDIR)/$(BIN):$$PATH ORY_VENV_2_18=$(CURDIR)/$(VENV_2_18) bash tests/run_tests.sh

# The same steps on ansible-core 2.18 (its own venv).
$(MATRIX_2_18): $(STAMP) $(STAMP_2_18)
	@PATH=$(CURDIR)/$(BIN):$$PATH ORY_VENV_2_18=$(CURDIR)/$(VENV_2_18) bash tests/run_tests.sh $@

# Single steps, for development.
lint sanity units contract integration examples rotation molecule awx eda docs-lint bench bench-imported report: $(STAMP)
	@PATH=$(CURDIR)/$(BIN):$$PATH bash tests/run_tests.sh $@

## Fault matrix: every write of every key module x every injected fault x SEEDS seeds (make test runs 1 seed).
SEEDS ?= 5
faults: $(STAMP)
	@SEEDS=$(SEEDS) PATH=$(CURDIR)/$(BIN):$$PATH bash tests/run_tests.sh faults

clean:
	rm -rf $(VENV) $(VENV_2_18) tests/output .ansible collections
