"""Benchmark: large bootstraps under Ory Network's rate limits (run by `make bench`, after tests/bench/run.py).

Starts its own emulator with three projects (see CONFIG) and checks:

1. bootstrap: N=200 issued keys through one OryClient in one process, the way the role's engine issues them, on
   the Develop plan scaled down 10x in time (talos-admin-low: 5 per 0.1 s, 15 per 6 s, so 2.5 writes/s):
   completes, at most 5 % of the requests answered 429, total time at most 1.2 x N / rate.
2. shared: two processes (two environments) issue M keys each on one project at the same time: both complete,
   and neither finishes much later than the other (the bucket is shared fairly).
3. modules: an ansible-playbook loop of ory_issued_api_key tasks (retries: 0) into a bucket of 6 writes per minute that
   this script has just used up: every task completes, and each one that met the empty bucket (429) reports its
   wait in `rate_limit` (also shown at -v).

Scale: N=200 and M=50 at time_scale 10 (74 s and 34 s at the least), a loop of 3 tasks (about 30 s): 2.5 minutes in all.
Usage: python tests/bench/rate_limits.py   (needs ANSIBLE_COLLECTIONS_PATH as tests/run_tests.sh sets it)
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep)[0])
sys.path.insert(0, os.path.join(ROOT, 'tests', 'utils'))

N = 200
M = 50
LOOP = 3
TIME_SCALE = 10
DEVELOP_LOW = (5, 1.0), (15, 60.0)          # talos-admin-low on the Develop plan: 5 per second, 15 per minute
RATE = 15 / 60.0 * TIME_SCALE               # sustained writes per second once scaled: 2.5
ISSUE = '/v2alpha1/admin/issuedApiKeys'
CONFIG = {'projects': [
    {'slug': 'bench-bootstrap', 'rate_limits': {'plan': 'develop', 'time_scale': TIME_SCALE}},
    {'slug': 'bench-shared', 'rate_limits': {'plan': 'develop', 'time_scale': TIME_SCALE}},
    # slower than one task runs here (one write every 10 s), so that every task of the loop meets an empty bucket
    {'slug': 'bench-modules', 'rate_limits': {'buckets': {'talos-admin-low': {'per_minute': 6}}}},
]}


def collection():
    # pylint: disable=import-outside-toplevel
    from ansible_collections.ory.network.plugins.module_utils._client import OryClient
    from ansible_collections.ory.network.plugins.module_utils._talos import Talos
    return OryClient, Talos


def issue_keys(url, key, count, prefix, progress=None):
    """Issue ``count`` keys with one client, as the engine does; return (seconds, client)."""
    OryClient, Talos = collection()
    client = OryClient(url, key)
    talos = Talos(client)
    done = [0]
    last = [0.0]

    def report(event):
        if progress and time.monotonic() - last[0] >= progress:
            last[0] = time.monotonic()
            left = count - done[0]
            print('  %s: %d/%d issued, %d writes left, about %.0f s of waiting ahead (%d waits, %.0f s so far, bucket %s)'
                  % (prefix, done[0], count, left, client.pacing.estimate('POST', ISSUE, left) or 0, event['waits'],
                     event['waited_seconds'], event['bucket']), flush=True)
    client.pacing.on_wait = report
    start = time.monotonic()
    for index in range(count):
        dummy, secret = talos.issue({'name': '%s-%d' % (prefix, index), 'actor_id': prefix, 'ttl': '1h'})
        assert secret
        done[0] += 1
    return time.monotonic() - start, client


def worker(argv):
    """One environment of the shared scenario: python rate_limits.py --worker URL COUNT PREFIX (key in ORY_BENCH_KEY)."""
    url, count, prefix = argv[0], int(argv[1]), argv[2]
    seconds, client = issue_keys(url, os.environ['ORY_BENCH_KEY'], count, prefix)
    summary = client.pacing.summary() or {}
    print(json.dumps({'prefix': prefix, 'seconds': seconds, 'requests': client.requests_sent, 'throttled': summary.get('throttled', 0),
                      'waits': summary.get('waits', 0)}))
    return 0


class Emulator:
    def __init__(self, workdir):
        from with_emulator import start_emulator  # pylint: disable=import-outside-toplevel
        path = os.path.join(workdir, 'rate-limits.json')
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump(CONFIG, handle)
        self.proc, self.info = start_emulator(workdir, path)
        self.projects = {proj['slug']: proj for proj in self.info['projects']}

    def stats(self):
        return requests.get(self.info['admin_url'] + '/stats', timeout=10).json()

    def reset_stats(self):
        requests.delete(self.info['admin_url'] + '/stats', timeout=10)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(15)


def throttled(stats):
    return sum((stats.get('throttled') or {}).values())


def bootstrap(emu, failures):
    proj = emu.projects['bench-bootstrap']
    emu.reset_stats()
    seconds, client = issue_keys(proj['project_url'], proj['project_api_key'], N, 'bootstrap', progress=10)
    stats = emu.stats()
    total, limited = stats['total'], throttled(stats)
    bound = 1.2 * N / RATE
    floor = (N - DEVELOP_LOW[1][0]) / RATE
    summary = client.pacing.summary() or {}
    print('bootstrap of %d keys, Develop plan x%d (%.1f writes/s): %.1f s (physical minimum %.1f s, bound 1.2 x N / rate = %.1f s), '
          '%d requests, %d answered 429 (%.1f %%), %d waits, %.1f s waited'
          % (N, TIME_SCALE, RATE, seconds, floor, bound, total, limited, 100.0 * limited / max(total, 1), summary.get('waits', 0),
             summary.get('waited_seconds', 0.0)))
    if seconds > bound:
        failures.append('bootstrap took %.1f s, more than %.1f s' % (seconds, bound))
    if limited > 0.05 * total:
        failures.append('bootstrap: %d of %d requests answered 429 (more than 5 %%)' % (limited, total))
    if stats['requests'].get('POST ' + ISSUE) != total:
        failures.append('bootstrap: unexpected requests %s' % stats['requests'])


def shared(emu, failures):
    proj = emu.projects['bench-shared']
    emu.reset_stats()
    env = dict(os.environ, ORY_BENCH_KEY=proj['project_api_key'])
    start = time.monotonic()
    procs = [subprocess.Popen([sys.executable, __file__, '--worker', proj['project_url'], str(M), name], env=env, stdout=subprocess.PIPE,
                              text=True) for name in ('env-a', 'env-b')]
    results = []
    for proc in procs:
        out, dummy = proc.communicate(timeout=600)
        if proc.returncode != 0:
            failures.append('shared: a worker failed (exit %s)' % proc.returncode)
            return
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = time.monotonic() - start
    stats = emu.stats()
    total, limited = stats['total'], throttled(stats)
    slow, fast = max(r['seconds'] for r in results), min(r['seconds'] for r in results)
    print('shared bucket, 2 environments x %d keys at once: %.1f s (physical minimum %.1f s), %s; %d requests, %d answered 429 (%.1f %%); '
          'finish times %.1f s and %.1f s (ratio %.2f)'
          % (M, wall, (2 * M - DEVELOP_LOW[1][0]) / RATE, ', '.join('%(prefix)s %(requests)d requests %(throttled)d 429s' % r for r in results),
             total, limited, 100.0 * limited / max(total, 1), fast, slow, slow / max(fast, 1e-6)))
    listed = requests.get(proj['project_url'] + ISSUE, params={'page_size': 1000}, timeout=30,
                          headers={'Authorization': 'Bearer ' + proj['project_api_key']}).json()['issued_api_keys']
    if len(listed) != 2 * M:
        failures.append('shared: %d keys issued, expected %d' % (len(listed), 2 * M))
    if slow > 1.5 * fast:          # starving one of them would give about 2
        failures.append('shared: unfair share, one environment took %.1f s and the other %.1f s' % (slow, fast))
    if wall > 1.5 * 2 * M / RATE:
        failures.append('shared: %.1f s, more than 1.5 x %d / rate' % (wall, 2 * M))


def modules(emu, workdir, failures):
    proj = emu.projects['bench-modules']
    # another environment has just used up the bucket (6 writes): every task below must wait for a token (10 s each)
    issue_keys(proj['project_url'], proj['project_api_key'], 6, 'drain')
    emu.reset_stats()
    vault_pass = os.path.join(workdir, 'vault-pass')
    with open(vault_pass, 'w', encoding='utf-8') as handle:
        handle.write('bench-vault-password\n')
    results = os.path.join(workdir, 'rate_limit.json')
    play = [{'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/ory.network.ory': {'retries': 0}},
             'tasks': [
                 {'name': 'issue keys into an empty bucket', 'ory.network.ory_issued_api_key': {
                     'name': 'loop-{{ item }}', 'actor_id': 'bench-loop', 'ttl': '1h',
                     'vault_dest': os.path.join(workdir, 'vault.yml'), 'vault_var': 'loop_key_{{ item }}'},
                  'loop': list(range(LOOP)), 'register': 'issued'},
                 {'name': 'keep what the tasks say about rate limits', 'ansible.builtin.copy': {
                     'content': "{{ issued.results | map(attribute='rate_limit', default={}) | list | to_json }}", 'dest': results,
                     'mode': '0600'}},
             ]}]
    path = os.path.join(workdir, 'loop.yml')
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(play, handle)
    env = dict(os.environ, ORY_PROJECT_API_URL=emu.info['project_url_template'], ORY_PROJECT_SLUG='bench-modules',
               ORY_PROJECT_API_KEY=proj['project_api_key'])
    start = time.monotonic()
    proc = subprocess.run(['ansible-playbook', '-v', '-i', 'localhost,', '-c', 'local', '--vault-password-file', vault_pass, path],
                          cwd=workdir, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        failures.append('modules: the playbook failed:\n' + proc.stdout[-3000:])
        return
    with open(results, encoding='utf-8') as handle:
        reported = json.load(handle)
    stats = emu.stats()
    print('ansible-playbook loop of %d ory_issued_api_key tasks (retries: 0) into an empty bucket (6 writes/min): %.1f s, '
          '%d requests, %d answered 429; each task reported rate_limit %s; "rate_limit" in the -v output: %s'
          % (LOOP, seconds, stats['total'], throttled(stats), json.dumps(reported), '"rate_limit"' in proc.stdout))
    # Every 429 was waited out (retries: 0 let none count as a failure) and is reported by the task that met it. How many
    # tasks meet an empty bucket depends on how fast tasks run here (all of them on an idle machine); at least one does.
    paced = [item for item in reported if item]
    if not paced or sum(item['throttled'] for item in paced) != throttled(stats) or not all(item['waited_seconds'] > 0 for item in paced):
        failures.append('modules: the tasks did not report their waits in rate_limit: %s (emulator: %d answered 429)' % (reported, throttled(stats)))
    if '"rate_limit"' not in proc.stdout:
        failures.append('modules: rate_limit is not shown at -v')


def main():
    failures = []
    with tempfile.TemporaryDirectory(prefix='ory-bench-rl-') as workdir:
        emu = Emulator(workdir)
        try:
            modules(emu, workdir, failures)
            bootstrap(emu, failures)
            shared(emu, failures)
        finally:
            emu.stop()
    for failure in failures:
        print('FAIL: ' + failure)
    print('bench rate limits: %s' % ('failed' if failures else 'passed'))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(worker(sys.argv[2:]) if sys.argv[1:2] == ['--worker'] else main())
