#!/usr/bin/env bash
# make demo: bootstrap the API keys of two environments (staging, production) against the local Ory Network
# emulator with the role ory.network.api_key_bootstrap, run it again (changed=0), then use the secrets:
# in the next play of the same run (vars_files) and in a later run (group_vars). Everything is written to
# demo-output/ (git-ignored). No secret is printed; the script checks that at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DEMO=$ROOT/tests/demo
WORK=$ROOT/demo-output
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1 PY_COLORS=0
export ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_LOCALHOST_WARNING=false

# Ansible finds the collection through a link outside the repository, as in tests/run_tests.sh.
# One link per checkout, so two clones never point each other's runs at the wrong tree.
CP=${XDG_CACHE_HOME:-$HOME/.cache}/ory-network/$(printf %s "$ROOT" | cksum | cut -d" " -f1)/collections
mkdir -p "$CP/ansible_collections/ory"
ln -sfn "$ROOT" "$CP/ansible_collections/ory/network"
export ANSIBLE_COLLECTIONS_PATH=$CP
export ANSIBLE_PYTHON_INTERPRETER=${ANSIBLE_PYTHON_INTERPRETER:-$(command -v python)}
# Use only what this script sets (never a shell's real Ory Network credentials).
unset ORY_WORKSPACE_API_KEY ORY_WORKSPACE_ID ORY_PROJECT_API_KEY ORY_PROJECT_ID ORY_PROJECT_SLUG ORY_CONSOLE_API_URL ORY_PROJECT_API_URL

rm -rf "$WORK"
mkdir -p "$WORK/inventory"
chmod 700 "$WORK"

step() { printf '\n======== %s\n' "$*"; }

# A generated vault password, readable only by its owner. The vault files are encrypted with it.
(umask 077 && python -c 'import secrets; print(secrets.token_urlsafe(32))' > "$WORK/vault-password")
export ANSIBLE_VAULT_PASSWORD_FILE=$WORK/vault-password

step "Start the Ory Network emulator (projects: staging, production)"
python -m tests.emulator --port 0 --config "$DEMO/emulator.yml" --state-file "$WORK/emulator-state.json" \
  > "$WORK/emulator.json" 2> "$WORK/emulator.log" &
EMULATOR=$!
stop_emulator() {
  kill -TERM "$EMULATOR" 2>/dev/null || true
  wait "$EMULATOR" 2>/dev/null || true
}
trap stop_emulator EXIT
for _ in $(seq 100); do
  [ -s "$WORK/emulator.json" ] && break
  kill -0 "$EMULATOR" 2>/dev/null || { cat "$WORK/emulator.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$WORK/emulator.json" ] || { echo "the emulator did not start" >&2; exit 1; }
chmod 600 "$WORK/emulator.json"

# Connection: the console and project API URLs and the workspace key, for the modules' ORY_* fallbacks.
eval "$(python - "$WORK/emulator.json" <<'PY'
import json, shlex, sys
info = json.loads(open(sys.argv[1]).readline())
for name, key in (('ORY_CONSOLE_API_URL', 'console_url'), ('ORY_PROJECT_API_URL', 'project_url_template'),
                  ('ORY_WORKSPACE_API_KEY', 'workspace_api_key'), ('ORY_WORKSPACE_ID', 'workspace_id')):
    print('export %s=%s' % (name, shlex.quote(info[key])))
print('ADMIN_URL=%s' % shlex.quote(info['admin_url']))
PY
)"
echo "console API: $ORY_CONSOLE_API_URL   project API: $ORY_PROJECT_API_URL"

# The inventories: one host per environment for the bootstrap, and an application inventory whose groups
# are named after the environments (it reads group_vars/<environment>/vault.yml in later runs).
python - "$WORK/emulator.json" "$WORK/inventory" <<'PY'
import json, os, sys
info = json.loads(open(sys.argv[1]).readline())
projects = {p['slug']: p for p in info['projects']}
environments = {'ory_environments': {
    'vars': {'ansible_connection': 'local'},
    'hosts': {slug: {'ory_bootstrap_project_id': projects[slug]['id'], 'ory_bootstrap_project_slug': slug,
                     'demo_project_slug': slug} for slug in ('staging', 'production')}}}
environments['ory_environments']['hosts']['production']['demo_extra_keys'] = [{
    'name': 'partner-acme', 'actor_id': 'partner-acme', 'scopes': ['orders:read'], 'ttl': '180d', 'rotate_before': '30d',
    'ip_allowlist': ['203.0.113.0/24'], 'rate_limit': {'quota': 100, 'window': '1m'}}]
apps = {'all': {'vars': {'ansible_connection': 'local'}, 'children': {
    slug: {'hosts': {'app-%s' % slug: {}}, 'vars': {'demo_project_slug': slug}} for slug in ('staging', 'production')}}}
for name, data in (('environments.yml', environments), ('apps.yml', apps)):
    with open(os.path.join(sys.argv[2], name), 'w', encoding='utf-8') as handle:
        json.dump(data, handle, indent=2)
PY
echo "inventory: $WORK/inventory/environments.yml (hosts staging, production), $WORK/inventory/apps.yml"

LOGS=()
run() {  # run <log name> ansible-playbook args...; shows the output and keeps it for the secret scan
  local log=$WORK/$1.log
  shift
  LOGS+=("$log")
  "$@" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

step "1. Bootstrap both environments (in parallel), then use the secrets in the next play (vars_files)"
run bootstrap-1 ansible-playbook -i "$WORK/inventory/environments.yml" "$DEMO/bootstrap.yml"

step "2. Run the same bootstrap again: nothing to do (changed=0), one read per plane and environment"
python -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/stats", method="DELETE"))' "$ADMIN_URL"
run bootstrap-2 ansible-playbook -i "$WORK/inventory/environments.yml" "$DEMO/bootstrap.yml"
if grep -E '^(staging|production) +:' "$WORK/bootstrap-2.log" | grep -vq 'changed=0'; then
  echo "demo: the second bootstrap changed something" >&2
  exit 1
fi
python - "$ADMIN_URL" <<'PY'
import json, sys, urllib.request
stats = json.load(urllib.request.urlopen(sys.argv[1] + '/stats'))
print('\nrequests of the second run (2 environments; the role verifies nothing it did not store in this run, the verify calls are the next play using the secrets):')
for endpoint, count in stats['requests'].items():
    print('  %3d  %s' % (count, endpoint))
PY

step "3. A later run with the application inventory reads the secrets through group_vars and verifies them"
run use-secrets ansible-playbook -i "$WORK/inventory/apps.yml" "$DEMO/use_secrets.yml"

step "4. Audit both environments' keys and write one report (JSON, Markdown, HTML with an expiry timeline)"
run audit ansible-playbook -i "$WORK/inventory/environments.yml" ory.network.audit \
  -e ory_bootstrap_talos_key=talos -e ory_audit_report_dir="$WORK/report"
cat "$WORK/report/ory-api-key-audit.md" >> "$WORK/audit.log"   # the report goes through the secret scan below

step "The vault files (encrypted; decrypt with: ansible-vault view --vault-password-file demo-output/vault-password <file>)"
find "$WORK/inventory/group_vars" -name vault.yml -exec ls -l {} \; -exec head -c 60 {} \; -exec echo \;

# No secret may appear in any output of the demo.
python - "$WORK" "${LOGS[@]}" <<'PY'
import glob, json, subprocess, sys, yaml
work, logs = sys.argv[1], sys.argv[2:]
secrets = []
for path in glob.glob(work + '/inventory/group_vars/*/vault.yml'):
    text = subprocess.run(['ansible-vault', 'view', path], check=True, capture_output=True, text=True).stdout
    secrets += [v for v in yaml.safe_load(text).values() if isinstance(v, str) and v.startswith('ory_')]
info = json.loads(open(work + '/emulator.json').readline())
secrets += [info['workspace_api_key']] + [p['project_api_key'] for p in info['projects']]
output = ''.join(open(log, encoding='utf-8').read() for log in logs)
leaked = [s for s in secrets if s in output]
print('\nsecret scan: %d secrets (stored keys and the emulator\'s seed keys), %d found in the demo output' % (len(secrets), len(leaked)))
sys.exit(1 if leaked or not secrets else 0)
PY
echo "demo: done (outputs in demo-output/)"
echo "demo: key audit report: $WORK/report/ory-api-key-audit.html (open it in a browser; Markdown and JSON beside it)"
