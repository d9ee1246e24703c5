"""Benchmark: bulk migration of legacy keys with ory.network.ory_imported_api_key (run by `make bench-imported`).

5,000 legacy keys in an Ansible Vault file are imported with one task: budget 6 requests (1 list + 5 batchCreate).
The same task again imports nothing: budget 6 requests, all reads. Request counts come from the emulator's
admin stats; the wall-time ratio of the two runs is reported, never asserted.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

import requests
import yaml

ADMIN = os.environ['ORY_EMULATOR_ADMIN_URL']
KEYS = 5000
BUDGET_FIRST = 6
BUDGET_RERUN = 6


def stats():
    return requests.get(ADMIN + '/stats', timeout=10).json()


def write_vault_file(path, password_file, keys):
    with open(path + '.plain', 'w', encoding='utf-8') as handle:
        yaml.safe_dump({'legacy_api_keys': keys}, handle)
    subprocess.run(['ansible-vault', 'encrypt', '--vault-password-file', password_file, '--output', path, path + '.plain'],
                   check=True, capture_output=True)
    os.unlink(path + '.plain')


def run_playbook(work, password_file):
    start = time.perf_counter()
    proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', '--vault-password-file', password_file, 'migrate.yml'],
                          cwd=work, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit('bench playbook failed:\n' + proc.stdout[-3000:])
    with open(os.path.join(work, 'summary.json'), encoding='utf-8') as handle:
        return json.load(handle), elapsed, proc.stdout


def main():
    requests.patch(ADMIN + '/projects/' + os.environ['ORY_PROJECT_SLUG'], json={'key_quota': KEYS + 100}, timeout=10)
    failures = []
    with tempfile.TemporaryDirectory(prefix='ory-bench-imported-') as work:
        password_file = os.path.join(work, 'vault-password')
        with open(password_file, 'w', encoding='utf-8') as handle:
            handle.write(secrets.token_urlsafe(24))
        keys = [{'raw_key': 'legacy_%s' % secrets.token_hex(20), 'name': 'legacy-%04d' % i, 'actor_id': 'customer-%d' % (i % 97),
                 'scopes': ['read'], 'ttl': '365d'} for i in range(KEYS)]
        write_vault_file(os.path.join(work, 'legacy-keys.vault.yml'), password_file, keys)
        with open(os.path.join(work, 'migrate.yml'), 'w', encoding='utf-8') as handle:
            json.dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
                {'name': 'Import the legacy keys', 'ory.network.ory_imported_api_key': {'keys_file': 'legacy-keys.vault.yml'},
                 'register': 'migration'},
                {'name': 'Keep the summary', 'ansible.builtin.copy': {'content': '{{ migration.summary | to_json }}', 'dest': 'summary.json'}},
            ]}], handle)
        requests.delete(ADMIN + '/stats', timeout=10)
        first, first_seconds, first_out = run_playbook(work, password_file)
        first_stats = stats()
        requests.delete(ADMIN + '/stats', timeout=10)
        rerun, rerun_seconds, rerun_out = run_playbook(work, password_file)
        rerun_stats = stats()
        leaked = [k['raw_key'] for k in keys[:200] if k['raw_key'] in first_out + rerun_out]

    rerun_writes = sum(n for endpoint, n in rerun_stats['requests'].items() if not endpoint.startswith('GET '))
    print('%-52s %8s %8s' % ('scenario', 'requests', 'budget'))
    print('%-52s %8d %8d   %s' % ('import %d legacy keys from a vault file' % KEYS, first_stats['total'], BUDGET_FIRST,
                                  json.dumps(first_stats['requests'], sort_keys=True)))
    print('%-52s %8d %8d   %s' % ('rerun (nothing to import)', rerun_stats['total'], BUDGET_RERUN,
                                  json.dumps(rerun_stats['requests'], sort_keys=True)))
    print('summaries: first %s, rerun %s' % (json.dumps(first, sort_keys=True), json.dumps(rerun, sort_keys=True)))
    print('wall time: first %.1fs, rerun %.1fs (ratio %.2f)' % (first_seconds, rerun_seconds, first_seconds / max(rerun_seconds, 1e-6)))
    if first_stats['total'] > BUDGET_FIRST or first.get('imported') != KEYS:
        failures.append('first run: %d requests (budget %d), %s imported' % (first_stats['total'], BUDGET_FIRST, first.get('imported')))
    if rerun_stats['total'] > BUDGET_RERUN or rerun_writes or rerun.get('unchanged') != KEYS:
        failures.append('rerun: %d requests (budget %d), %d writes, %s unchanged' % (
            rerun_stats['total'], BUDGET_RERUN, rerun_writes, rerun.get('unchanged')))
    if leaked:
        failures.append('%d raw keys reached the playbook output' % len(leaked))
    for failure in failures:
        print('FAIL: ' + failure)
    print('bench-imported: %d passed, %d failed' % (3 - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
