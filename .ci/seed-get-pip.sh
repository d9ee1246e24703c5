#!/usr/bin/env bash
# ansible-test bootstraps pip in its sanity venvs from a host that this CI cannot reach.
# Seed its cache with a stand-in that installs the pinned pip wheel from PyPI instead.
set -euo pipefail
PY=${PY:-python}
AT_DIR=$($PY -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
PIP_VER=$(sed -n "s/^ *pip='\([0-9.]*\)',.*/\1/p" "$AT_DIR/_internal/python_requirements.py" | head -1)
CACHE=$HOME/.ansible/test/cache
mkdir -p "$CACHE"
if [ ! -f "$CACHE/pip-$PIP_VER-py3-none-any.whl" ]; then
  $PY -m pip download -q --no-deps --only-binary=:all: -d "$CACHE" "pip==$PIP_VER" >/dev/null
fi
cat > "$CACHE/get_pip_${PIP_VER//./_}.py" <<PYEOF
import os, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, 'pip-$PIP_VER-py3-none-any.whl'))
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
from pip._internal.cli.main import main
sys.exit(main(['install', '--upgrade', '--force-reinstall', '--find-links', here] + args))
PYEOF
