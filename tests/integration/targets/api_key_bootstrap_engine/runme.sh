#!/usr/bin/env bash
# Faults the bootstrap engine fixes, each against the emulator (skipped against the real Ory Network: it injects faults):
# 1. ttl: 0s (or "0") is rejected before the first write - no project key is created either;
# 2. a lost-secret repair whose issue calls all time out leaves 2 marked keys whose secrets are stored nowhere; the next
#    run replaces them with ONE new key;
# 3. two runs on one environment at once create no duplicates (the vault file's lock is held from the read to the last write).
set -eu
CONFIG=$(cd ../.. && pwd)/integration_config.yml
PY=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
# ansible-test points ANSIBLE_PYTHON_INTERPRETER at a placeholder meant for its own inventory; these runs use local hosts
export ANSIBLE_PYTHON_INTERPRETER=$PY
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))' > "$WORK/vault-password")
export ANSIBLE_VAULT_PASSWORD_FILE=$WORK/vault-password
eval "$("$PY" - "$CONFIG" <<'PY'
import shlex, sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
for var in ('console_api_url', 'project_api_url', 'workspace_api_key', 'project_api_key', 'project_id', 'project_slug', 'emulator_admin_url'):
    print('export ORY_%s=%s' % (var.upper(), shlex.quote(str(config.get('ory_' + var) or ''))))
PY
)"
if [ -z "$ORY_EMULATOR_ADMIN_URL" ] || [ -z "$ORY_PROJECT_API_KEY" ]; then
  echo "skipped: these tests inject faults into the local emulator"
  exit 0
fi
RUN=$RANDOM$RANDOM

bootstrap() {  # bootstrap <environment> [ansible-playbook args]
  ansible-playbook -i "$1," -c local -e "work_dir=$WORK" engine.yml "${@:2}"
}
keys() {  # keys <n> [ttl]: n issued key declarations as JSON
  "$PY" -c 'import json, sys; print(json.dumps({"engine_keys": [{"name": "k%d" % i, "actor_id": "svc-it", "ttl": sys.argv[2]} for i in range(int(sys.argv[1]))]}))' "$1" "${2:-1d}"
}
check() {  # check <python expression>; helpers: writes(), active(name), stored(env, var)
  "$PY" - "$1" "$WORK" <<'PY'
import json, os, subprocess, sys, requests, yaml
admin, talos = os.environ['ORY_EMULATOR_ADMIN_URL'], os.environ['ORY_PROJECT_API_URL'].replace('%s', os.environ['ORY_PROJECT_SLUG'])
def stats():
    return requests.get(admin + '/stats', timeout=10).json()['requests']
def writes():
    return sum(n for endpoint, n in stats().items() if not endpoint.startswith('GET ') and 'erify' not in endpoint)
def active(name):
    r = requests.get(talos + '/v2alpha1/admin/issuedApiKeys', params={'page_size': 1000},
                     headers={'Authorization': 'Bearer ' + os.environ['ORY_PROJECT_API_KEY']}, timeout=10).json()
    return sorted(k['key_id'] for k in r['issued_api_keys'] if k['name'] == name and k['status'] == 'KEY_STATUS_ACTIVE')
def stored(env, var):
    text = subprocess.run(['ansible-vault', 'view', os.path.join(sys.argv[2], env + '.yml')], check=True, capture_output=True, text=True).stdout
    return (yaml.safe_load(text).get(var + '_meta') or {}).get('key_id')
ok = eval(sys.argv[1])
print('check %s: %s' % (sys.argv[1], 'ok' if ok else 'FAILED'))
sys.exit(0 if ok else 1)
PY
}
reset_stats() { "$PY" -c 'import os, requests; requests.delete(os.environ["ORY_EMULATOR_ADMIN_URL"] + "/stats", timeout=10)'; }
fault() { "$PY" -c 'import json, os, sys, requests; requests.post(os.environ["ORY_EMULATOR_ADMIN_URL"] + "/faults", json=json.loads(sys.argv[1]), timeout=10).raise_for_status()' "$1"; }
clear_faults() { "$PY" -c 'import os, requests; requests.delete(os.environ["ORY_EMULATOR_ADMIN_URL"] + "/faults", timeout=10)'; }

echo "=== 1. ttl: 0s and ttl: \"0\" are rejected before the first write"
for ttl in 0s 0; do
  reset_stats
  if bootstrap "it-zero-$RUN" -e "$(keys 1 $ttl)" -e '{"engine_project_keys": [{"name": "p"}]}' > "$WORK/zero.log" 2>&1; then
    echo "the run with ttl $ttl succeeded"; exit 1
  fi
  grep -q "ttl must be at least one second" "$WORK/zero.log"
  check "writes() == 0"
done

echo "=== 2. lost-secret repair whose issue calls time out: nothing unstored stays live, the next run repairs it with ONE new key"
ENV=it-lost-$RUN
bootstrap "$ENV" -e "$(keys 1)" > "$WORK/first.log" || { cat "$WORK/first.log"; exit 1; }
fault '{"fault": "drop_after_commit", "times": 20, "method": "POST", "endpoint": "/v2alpha1/admin/issuedApiKeys"}'
# the same environment with a vault file that holds none of its secrets: the key's secret is lost
if bootstrap "$ENV" -e "$(keys 1)" -e engine_vault="$ENV-lost" -e engine_retries=0 > "$WORK/lost.log" 2>&1; then
  echo "the run with failing issue calls succeeded"; exit 1
fi
clear_faults
# the run that gave up revoked the keys it issued without receiving their secrets: only the old key is left
check "len(active('$ENV:k0')) == 1"
bootstrap "$ENV" -e "$(keys 1)" -e engine_vault="$ENV-lost" > "$WORK/repair.log"
grep -qE "(rotated|replaced) \(lost secret" "$WORK/repair.log" || { cat "$WORK/repair.log"; exit 1; }
check "active('$ENV:k0') == [stored('$ENV-lost', 'ory_issued_api_key_k0')]"

echo "=== 3. two runs on one new environment at once: no duplicates"
ENV=it-twice-$RUN
bootstrap "$ENV" -e "$(keys 5)" > "$WORK/a.log" 2>&1 &
first=$!
bootstrap "$ENV" -e "$(keys 5)" > "$WORK/b.log" 2>&1 || { cat "$WORK/b.log"; exit 1; }
wait $first || { cat "$WORK/a.log"; exit 1; }
check "all(active('$ENV:k%d' % i) == [stored('$ENV', 'ory_issued_api_key_k%d' % i)] for i in range(5))"
echo "engine faults: ok"
