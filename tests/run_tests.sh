#!/usr/bin/env bash
# The collection's whole test suite (what `make test` runs). With step names as arguments, runs only those.
# Ends with one line "N passed, N failed"; exits non-zero when any step failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
PYVER=3.11
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1 ANSIBLE_NOCOLOR=1

# sanity, units, integration and examples run on every ansible-core minor in requires_ansible: the pin from the
# active venv, and 2.18 from its own venv ($ORY_VENV_2_18, default .venv-2.18) as the *-2.18 steps.
STEPS=(lint docs-lint sanity sanity-2.18 units units-2.18 contract integration integration-2.18 examples examples-2.18 rotation molecule awx eda bench bench-imported report faults)
[ $# -gt 0 ] && STEPS=("$@")
VENV_2_18=${ORY_VENV_2_18:-$ROOT/.venv-2.18}

# Ansible finds the collection through a link outside the repository (so linters never walk a loop).
# One link per checkout, so two clones never point each other's runs at the wrong tree.
CP=${XDG_CACHE_HOME:-$HOME/.cache}/ory-network/$(printf %s "$ROOT" | cksum | cut -d" " -f1)/collections
mkdir -p "$CP/ansible_collections/ory"
ln -sfn "$ROOT" "$CP/ansible_collections/ory/network"
export ANSIBLE_COLLECTIONS_PATH=$CP
# Modules run with the venv's Python (it has requests), never a guessed interpreter.
export ANSIBLE_PYTHON_INTERPRETER=${ANSIBLE_PYTHON_INTERPRETER:-$(command -v python)}

# ansible-test needs the collection under .../ansible_collections/ory/network, outside any git checkout.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ory-network-tests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
COLL=$WORK/ansible_collections/ory/network
mkdir -p "$COLL"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -C "$COLL" -xf -
else
  tar --exclude=./.venv --exclude=./tests/output --exclude=./.ansible --exclude=./collections -cf - . | tar -C "$COLL" -xf -
fi

run_step() {
  case $1 in
    lint)        ansible-lint ;;
    docs-lint)   antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs . ;;
    sanity)      sanity ;;
    units)       (cd "$COLL" && ansible-test units --local --python $PYVER --color no) ;;
    contract)    python -m pytest -q -n 2 -p no:cacheprovider tests/contract ;;
    integration) python tests/utils/with_emulator.py --integration-config "$COLL/tests/integration/integration_config.yml" -- \
                   bash -c "cd '$COLL' && ansible-test integration --local --python $PYVER --color no" ;;
    examples)    python tests/utils/with_emulator.py --fresh -- python tests/utils/run_examples.py ;;
    rotation)    python tests/utils/with_emulator.py --fresh -- python tests/rotation/consumer_sim.py grace &&
                 python tests/utils/with_emulator.py --fresh -- python tests/rotation/consumer_sim.py off ;;
    molecule)    if [ -d extensions/molecule ]; then python tests/utils/with_emulator.py -- molecule test --all
                 else echo "no molecule scenarios yet"; fi ;;
    awx)         python -m pytest -q -p no:cacheprovider tests/awx ;;
    eda)         python -m pytest -q -p no:cacheprovider tests/eda ;;
    bench)       if [ -f tests/bench/run.py ]; then python tests/utils/with_emulator.py --fresh --config tests/bench/emulator.yml -- python tests/bench/run.py
                 else echo "no benchmarks yet"; fi && python tests/bench/rate_limits.py ;;
    bench-imported) python tests/utils/with_emulator.py --fresh -- python tests/bench/imported.py ;;
    report)      python tests/utils/with_emulator.py --fresh --config tests/report/emulator.yml -- python tests/report/check_report.py ;;
    faults)      python tests/faults/run.py --seeds "${SEEDS:-1}" && python tests/faults/kill.py ;;
    *-2.18)      on_2_18 "${1%-2.18}" ;;
    *)           echo "unknown step: $1"; return 2 ;;
  esac
}

# ansible-test sanity, failing when any sanity test was skipped for a missing tool (it only warns about that).
sanity() {
  local out=$WORK/sanity.log rc
  (cd "$COLL" && ansible-test sanity --local --python $PYVER --color no) 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  if grep -Eq 'Required program "[^"]*" not found|Skipping sanity test' "$out"; then
    echo "sanity skipped tests (install the missing tool; .ci/run does):"
    grep -E 'Required program "[^"]*" not found|Skipping sanity test' "$out"
    return 1
  fi
  return "$rc"
}

# Run a step with ansible-core 2.18 from its own venv (modules run with that venv's Python too).
on_2_18() {
  if [ ! -x "$VENV_2_18/bin/ansible-test" ]; then
    echo "no ansible-core 2.18 venv at $VENV_2_18 (make venv creates it)"; return 1
  fi
  echo "ansible-core $("$VENV_2_18/bin/python" -c 'import ansible; print(ansible.__version__)') from $VENV_2_18"
  PATH="$VENV_2_18/bin:$PATH" ANSIBLE_PYTHON_INTERPRETER="$VENV_2_18/bin/python" run_step "$1"
}

SECRET_RE='ory_(pat|wak|ak|pk|apikey)_[A-Za-z0-9_-]{6,}'
pass=0 fail=0 failed=()
for s in "${STEPS[@]}"; do
  start=$SECONDS
  echo "=== [$s]"
  run_step "$s" </dev/null 2>&1 | tee "$WORK/step.log"
  rc=${PIPESTATUS[0]}
  # No output of any test may contain a secret: scan what the step printed for credential-shaped strings.
  if [ "$rc" -eq 0 ] && grep -Eq "$SECRET_RE" "$WORK/step.log"; then
    echo "=== [$s] a secret-shaped string reached the output ($(grep -Ec "$SECRET_RE" "$WORK/step.log") lines)"
    rc=1
  fi
  if [ "$rc" -eq 0 ]; then
    pass=$((pass+1)); echo "=== [$s] ok in $((SECONDS-start))s"
  else
    fail=$((fail+1)); failed+=("$s"); echo "=== [$s] FAILED in $((SECONDS-start))s"
  fi
done
[ $fail -eq 0 ] || echo "failed steps: ${failed[*]}"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
