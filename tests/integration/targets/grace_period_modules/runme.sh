#!/usr/bin/env bash
# Grace period in the key modules (issue 12): a replacement with retire_after keeps the old key live as the vault
# variable's previous key; retire_previous retires it. Check mode, real run, idempotent check, idempotent run.
# Needs a vault password, hence a script target.
set -eu
CONFIG=$(cd ../.. && pwd)/integration_config.yml
PY=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
# ansible-test points ANSIBLE_PYTHON_INTERPRETER at a placeholder meant for its own inventory; these runs use local hosts
export ANSIBLE_PYTHON_INTERPRETER=$PY
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))' > "$WORK/vault-password")
export ANSIBLE_VAULT_PASSWORD_FILE=$WORK/vault-password

ansible-playbook -i localhost, -c local -e "@$CONFIG" -e "work_dir=$WORK" playbook.yml "$@"
