#!/usr/bin/env bash
# Module-level lost-secret repair with vault_dest (ory_issued_api_key, ory_project_api_key): a playbook (check mode,
# on_missing_secret: fail, repair, idempotent rerun) and ad hoc commands. Needs a vault password, hence a script target.
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

# Ad hoc: a key stored in one vault file, then asked for with another one that does not hold its secret.
eval "$("$PY" - "$CONFIG" <<'PY'
import shlex, sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
for var in ('console_api_url', 'project_api_url', 'workspace_api_key', 'project_api_key', 'project_id', 'project_slug'):
    print('export ORY_%s=%s' % (var.upper(), shlex.quote(str(config.get('ory_' + var) or ''))))
PY
)"
[ -n "$ORY_PROJECT_API_KEY" ] || exit 0
NAME="it-adhoc-$RANDOM$RANDOM"
adhoc() {  # adhoc <vault file> [extra]; prints the one-line result (-o): "localhost | CHANGED => {...}"
  ansible localhost -i localhost, -c local -o \
    -m ory.network.ory_issued_api_key -a "name=$NAME actor_id=it-adhoc ttl=1h vault_dest=$1 vault_var=adhoc_key $2" "${@:3}"
}
field() {  # field <output file> <python expression over r (the host result)>
  "$PY" -c 'import json, sys; line = [l for l in open(sys.argv[1]) if l.startswith("localhost | ")][-1]
r = json.loads(line.split(" => ", 1)[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
adhoc "$WORK/a.yml" "" > "$WORK/1.json"
[ "$(field "$WORK/1.json" "r['changed'], 'secret' in r, r['vault']['var']")" = "(True, False, 'adhoc_key')" ]
adhoc "$WORK/a.yml" "" > "$WORK/2.json"
[ "$(field "$WORK/2.json" "r['changed']")" = "False" ]
first=$(field "$WORK/1.json" "r['api_key']['key_id']")
adhoc "$WORK/b.yml" "" --check > "$WORK/3.json"
[ "$(field "$WORK/3.json" "r['changed'], r['old_key_id']")" = "(True, '$first')" ]
[ ! -e "$WORK/b.yml" ]
adhoc "$WORK/b.yml" "on_missing_secret=fail" > "$WORK/4.json" || true
grep -q 'FAILED' "$WORK/4.json"
field "$WORK/4.json" "r['msg']" | grep -q "lost secret"
adhoc "$WORK/b.yml" "" > "$WORK/5.json"
[ "$(field "$WORK/5.json" "r['changed'], r['old_key_id'], r['old_key_retired'], r['api_key']['key_id'] != '$first'")" = "(True, '$first', True, True)" ]
ansible-vault view "$WORK/b.yml" | grep -q "key_id: $(field "$WORK/5.json" "r['api_key']['key_id']")"
adhoc "$WORK/b.yml" "state=absent" > /dev/null
echo "ad hoc lost-secret repair: ok"
