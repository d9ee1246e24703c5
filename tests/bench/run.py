"""Benchmarks: API requests per operation, counted by the emulator, and wall-time ratios measured in one run.

Run by `make bench` (inside tests/utils/with_emulator.py --fresh, which sets ORY_* and ORY_EMULATOR_ADMIN_URL).
Each scenario has a request budget; the run fails when a budget is exceeded, so a regression that adds
API calls to the idempotent path is caught. Wall times are only reported as ratios of two runs made here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# tests/run_tests.sh links the checkout as <ANSIBLE_COLLECTIONS_PATH>/ansible_collections/ory/network
sys.path.insert(0, os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep)[0])

ADMIN = os.environ['ORY_EMULATOR_ADMIN_URL']
PROJECT_URL = os.environ['ORY_PROJECT_API_URL'] % os.environ['ORY_PROJECT_SLUG'] if '%s' in os.environ['ORY_PROJECT_API_URL'] \
    else os.environ['ORY_PROJECT_API_URL']
TALOS_HEADERS = {'Authorization': 'Bearer ' + os.environ['ORY_PROJECT_API_KEY']}
BACKGROUND_KEYS = 1500
KEY_QUOTA = 100000


def stats():
    return requests.get(ADMIN + '/stats', timeout=10).json()


def reset_stats():
    requests.delete(ADMIN + '/stats', timeout=10)


def playbook(tasks, workdir):
    path = os.path.join(workdir, 'bench.yml')
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}], handle)
    start = time.perf_counter()
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=os.environ.get('ANSIBLE_PYTHON_INTERPRETER', sys.executable))
    proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', path], cwd=workdir, env=env,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = proc.stdout[-3000:]
        raise SystemExit('bench playbook failed:\n' + tail)
    return elapsed, proc.stdout


def measured(tasks, workdir):
    """Run tasks once to converge, then again with counters reset; return (requests by endpoint, total, seconds)."""
    playbook(tasks, workdir)
    reset_stats()
    elapsed, dummy = playbook(tasks, workdir)
    counted = stats()
    return counted['requests'], counted['total'], elapsed


def seed_background_keys(count):
    requests.patch(ADMIN + '/projects/' + os.environ['ORY_PROJECT_SLUG'], json={'key_quota': KEY_QUOTA}, timeout=10)
    with requests.Session() as session:
        session.headers.update(TALOS_HEADERS)
        for index in range(count):
            response = session.post(PROJECT_URL + '/v2alpha1/admin/issuedApiKeys',
                                    json={'name': 'background-%d' % index, 'actor_id': 'bench', 'ttl': '720h'}, timeout=10)
            response.raise_for_status()


def list_all(page_size):
    """List every issued key with the collection's client at a given page size; return (pages, seconds)."""
    from ansible_collections.ory.network.plugins.module_utils._client import OryClient  # pylint: disable=import-outside-toplevel
    client = OryClient(PROJECT_URL, os.environ['ORY_PROJECT_API_KEY'])
    start = time.perf_counter()
    found = sum(1 for dummy in client.paginate('/v2alpha1/admin/issuedApiKeys', 'issued_api_keys', page_size=page_size))
    return client.requests_sent, found, time.perf_counter() - start


def main():
    rows = []
    failures = []
    with tempfile.TemporaryDirectory(prefix='ory-bench-') as work:
        from bootstrap_bench import bootstrap_benchmarks  # pylint: disable=import-outside-toplevel
        failures.extend(bootstrap_benchmarks(work, ADMIN, PROJECT_URL, KEY_QUOTA))
        project_key_task = {'name': 'project key', 'ory.network.ory_project_api_key': {
            'name': 'bench-project-key', 'project_id': os.environ['ORY_PROJECT_ID'], 'expires_in': '90d', 'rotate_before': '7d'},
            'register': 'created'}
        by_endpoint, total, dummy = measured([project_key_task], work)
        rows.append(('idempotent ory_project_api_key', total, 1, by_endpoint))

        issued_task = {'name': 'issued key', 'ory.network.ory_issued_api_key': {
            'name': 'bench-issued-key', 'actor_id': 'bench-actor', 'scopes': ['read'], 'ttl': '30d', 'rotate_before': '1d'},
            'register': 'issued'}
        by_endpoint, total, dummy = measured([issued_task], work)
        rows.append(('idempotent ory_issued_api_key (actor filter)', total, 1, by_endpoint))

        seed_background_keys(BACKGROUND_KEYS)
        issued_by_name = dict(issued_task)
        issued_by_name['ory.network.ory_issued_api_key'] = {'name': 'bench-issued-key-2', 'scopes': ['read'], 'ttl': '30d'}
        by_endpoint, total, dummy = measured([issued_by_name], work)
        rows.append(('idempotent ory_issued_api_key, name only, %d keys' % BACKGROUND_KEYS, total, 2, by_endpoint))

        big_pages, found_big, seconds_big = list_all(1000)
        small_pages, found_small, seconds_small = list_all(50)

    print('%-58s %8s %8s' % ('scenario', 'requests', 'budget'))
    for name, total, budget, by_endpoint in rows:
        print('%-58s %8d %8d   %s' % (name, total, budget, json.dumps(by_endpoint, sort_keys=True)))
        if total > budget:
            failures.append('%s: %d requests, budget %d' % (name, total, budget))
    print('list %d issued keys: %d requests at page_size 1000 vs %d at the API default 50; wall time ratio 50/1000 = %.1fx'
          % (found_big, big_pages, small_pages, seconds_small / max(seconds_big, 1e-6)))
    if found_big != found_small or big_pages > 2:
        failures.append('paging: %d/%d keys found, %d requests' % (found_big, found_small, big_pages))
    for failure in failures:
        print('FAIL: ' + failure)
    print('bench: %d passed, %d failed' % (len(rows) + 1 - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
