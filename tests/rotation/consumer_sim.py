"""Consumer simulation of a rotation (issue 12): do running services survive bootstrap -> deploy -> retire?

usage: python tests/utils/with_emulator.py --fresh -- python tests/rotation/consumer_sim.py grace|off

Runs the playbooks of docs/examples/rotation (copied to a scratch directory) against the emulator:

1. setup: bootstrap.yml creates the keys as an earlier deployment left them (the issued key with the emulator's clock 25
   days back and the example's 30-day ttl; the project keys with 6 days left, tests/rotation/setup_vars.yml), and
   deploy.yml gives the services their secrets; with the clock back at real time, every key is due for rotation;
2. a consumer thread plays the services: every 200 ms the gateway calls the project API with its project API key
   (a deleted key gets 401) and the checkout service's issued key is verified through Talos (a revoked key is not
   valid). It reads its secrets from the files deploy.yml writes, and only when deploy.yml tells it to (its handler
   touches the reload file), as a service does;
3. bootstrap.yml, a pause, deploy.yml, a pause, retire.yml, a pause; with the grace period also bootstrap.yml in check
   mode first (it must show the rotation and leave the vault file alone) and rotate.yml at the end (a second run with
   nothing due changes nothing).

grace: the example as written (ory_bootstrap_retire_after: 24h): the vault file records the replaced keys as
``previous`` and the consumer sees 0 failed checks. off: the same playbooks with ory_bootstrap_retire_after empty
(bootstrap.yml retires the old keys at once): the consumer must see failed checks between bootstrap and deploy.
In both, the old secrets must fail once retire.yml has run, and the new ones work. No secret is ever printed.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import yaml

from ansible.parsing.vault import VaultLib, VaultSecret

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, 'docs', 'examples', 'rotation')
SETUP_VARS = os.path.join(ROOT, 'tests', 'rotation', 'setup_vars.yml')
SECRET_RE = re.compile(r'ory_(?:pat|wak|ak|pk|apikey)_[A-Za-z0-9_\-]{6,}')
RECAP_RE = re.compile(r'^staging\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0', re.M)
INTERVAL = 0.2          # seconds between two checks of the consumer
PAUSE = 1.0             # consumer time between two steps of the rotation
PASSWORD = 'consumer-simulation-vault-password'
VARS = {'gateway': 'ory_project_api_key_gateway', 'checkout': 'ory_issued_api_key_checkout', 'talos': 'ory_project_api_key_talos'}
AFTER_DEPLOY = ('deploy..retire', 'retire', 'after retire', 'rotate.yml again')


def admin(path, body=None):
    request = urllib.request.Request(os.environ['ORY_EMULATOR_ADMIN_URL'] + path, method='POST' if body is not None else 'GET',
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def call(method, url, token, body=None):
    """(status, JSON body or None) of one request with a bearer token; never raises for an HTTP error."""
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b'null')
    except urllib.error.HTTPError as exc:
        return exc.code, None


class Consumer(threading.Thread):
    """The services: the gateway's project API key and the checkout service's issued key, checked every 200 ms."""

    def __init__(self, service_dir):
        super().__init__(daemon=True)
        self.dir = service_dir
        self.project_url = os.environ['ORY_PROJECT_API_URL'] % os.environ['ORY_PROJECT_SLUG']
        self.seed_key = os.environ['ORY_PROJECT_API_KEY']   # the verifying side, never rotated here
        self.secrets = {}
        self.stamp = None
        self.reloads = 0
        self.phase = 'start'
        self.checks = []        # (phase, service, ok, detail)
        self.stop = threading.Event()
        self.held = []          # every set of secrets the consumer held (the old ones must fail after the retire)
        self.reload()

    def reload(self):
        for service in ('gateway', 'checkout'):
            with open(os.path.join(self.dir, service + '.key'), encoding='utf-8') as handle:
                self.secrets[service] = handle.read().strip()
        self.held.append(dict(self.secrets))
        self.stamp = os.stat(os.path.join(self.dir, 'reload')).st_mtime_ns
        self.reloads += 1

    def check(self):
        status = call('GET', self.project_url + '/v2alpha1/admin/issuedApiKeys?page_size=1', self.secrets['gateway'])[0]
        self.checks.append((self.phase, 'gateway', status == 200, 'HTTP %s' % status))
        status, body = call('POST', self.project_url + '/v2alpha1/admin/apiKeys:verify', self.seed_key,
                            {'credential': self.secrets['checkout']})
        valid = status == 200 and bool((body or {}).get('is_valid'))
        self.checks.append((self.phase, 'checkout', valid, (body or {}).get('error_code') or 'HTTP %s' % status))

    def run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            # the deploy step's signal (a service's reload): only then are the secrets read again
            if os.stat(os.path.join(self.dir, 'reload')).st_mtime_ns != self.stamp:
                self.reload()
            self.check()
            self.stop.wait(max(0.0, INTERVAL - (time.monotonic() - started)))


def vault_data(path):
    with open(path, 'rb') as handle:
        text = VaultLib([('default', VaultSecret(PASSWORD.encode()))]).decrypt(handle.read())
    return yaml.safe_load(text)


def previous_ids(data):
    return dict((name, ((data.get(var + '_meta') or {}).get('previous') or {}).get('key_id')) for name, var in VARS.items())


def key_ids(data):
    return dict((name, (data.get(var + '_meta') or {}).get('key_id')) for name, var in VARS.items())


class Driver:
    def __init__(self, variant, work):
        self.variant = variant
        self.example = os.path.join(work, 'rotation')
        shutil.copytree(EXAMPLE, self.example)
        self.inventory = os.path.join(self.example, 'inventory', 'environments.yml')
        self.vault = os.path.join(self.example, 'inventory', 'group_vars', 'staging', 'vault.yml')
        self.services = os.path.join(self.example, 'services', 'staging')
        password = os.path.join(work, 'vault-password')
        with open(password, 'w', encoding='utf-8') as handle:
            handle.write(PASSWORD + '\n')
        os.chmod(password, 0o600)
        self.env = dict(os.environ, ANSIBLE_VAULT_PASSWORD_FILE=password, ANSIBLE_STDOUT_CALLBACK='default', ANSIBLE_NOCOLOR='1',
                        ANSIBLE_LOCALHOST_WARNING='false')
        self.env.setdefault('ANSIBLE_PYTHON_INTERPRETER', sys.executable)
        self.problems = []
        self.timings = []

    def playbook(self, name, *extra):
        """Run one of the example's playbooks as a user would; return its changed count. Stops on failure or a leak."""
        args = ['ansible-playbook', '-i', self.inventory, name] + list(extra)
        if self.variant == 'off':
            args += ['-e', 'ory_bootstrap_retire_after=']
        label = name + (' --check' if '--check' in extra else '')
        started = time.monotonic()
        proc = subprocess.run(args, cwd=self.example, env=self.env, capture_output=True, text=True, check=False)
        out = proc.stdout + proc.stderr
        self.timings.append('%s %.1fs' % (label, time.monotonic() - started))
        recap = RECAP_RE.search(out)
        if proc.returncode != 0 or not recap or SECRET_RE.search(out):
            print(SECRET_RE.sub('<SECRET>', out)[-6000:])
            raise SystemExit('consumer_sim: %s failed (exit code %s%s)' % (
                label, proc.returncode, ', a secret-shaped string in its output' if SECRET_RE.search(out) else ''))
        print('  %s: changed=%s' % (label, recap.group(1)), flush=True)
        return int(recap.group(1))

    def expect(self, condition, message):
        if not condition:
            self.problems.append(message)
            print('  PROBLEM: ' + message, flush=True)

    def setup(self):
        """The keys as an earlier deployment left them, all due for rotation today (rotate_before 7d): the issued key made
        25 days ago (emulator clock) with the example's 30-day ttl, the project keys with 6 days left (setup_vars.yml)."""
        admin('/clock', {'offset_seconds': -25 * 86400})
        try:
            self.playbook('bootstrap.yml', '-e', '@' + SETUP_VARS)
        finally:
            admin('/clock', {'offset_seconds': 0})
        self.playbook('deploy.yml')

    def rotate(self):
        """bootstrap -> deploy -> retire while the consumer checks its secrets; return the consumer."""
        print('consumer_sim [%s]: setup (keys due for rotation)' % self.variant, flush=True)
        self.setup()
        old_ids = key_ids(vault_data(self.vault))
        none = dict((n, None) for n in VARS)
        consumer = Consumer(self.services)
        consumer.start()
        started = time.monotonic()
        try:
            if self.variant == 'grace':
                consumer.phase = 'bootstrap --check'
                with open(self.vault, 'rb') as handle:
                    raw = handle.read()
                self.expect(self.playbook('bootstrap.yml', '--check') > 0, 'check mode shows no rotation: the keys are not due')
                with open(self.vault, 'rb') as handle:
                    self.expect(handle.read() == raw, 'check mode changed the vault file')

            consumer.phase = 'bootstrap'
            self.playbook('bootstrap.yml')
            stored = vault_data(self.vault)
            new_ids = key_ids(stored)
            self.expect(all(new_ids[n] != old_ids[n] for n in VARS), 'bootstrap did not replace every key: %s -> %s' % (old_ids, new_ids))
            expected = old_ids if self.variant == 'grace' else none
            self.expect(previous_ids(stored) == expected, 'after bootstrap the vault file records previous keys %s, expected %s'
                        % (previous_ids(stored), expected))
            consumer.phase = 'bootstrap..deploy'
            time.sleep(PAUSE)

            consumer.phase = 'deploy'
            reloads = consumer.reloads
            self.playbook('deploy.yml')
            deadline = time.monotonic() + 5
            while consumer.reloads == reloads and time.monotonic() < deadline:
                time.sleep(0.05)
            self.expect(consumer.reloads > reloads, 'deploy.yml did not tell the consumer to reload')
            consumer.phase = 'deploy..retire'
            time.sleep(PAUSE)

            consumer.phase = 'retire'
            self.playbook('retire.yml')
            left = previous_ids(vault_data(self.vault))
            self.expect(left == none, 'retire.yml left previous records: %s' % left)
            consumer.phase = 'after retire'
            time.sleep(PAUSE)
            if self.variant == 'grace':
                consumer.phase = 'rotate.yml again'
                self.expect(self.playbook('rotate.yml') == 0, 'rotate.yml after the rotation changed something')
        finally:
            consumer.stop.set()
            consumer.join(5)
        self.report(consumer, time.monotonic() - started)
        self.old_secrets_fail(consumer)
        return consumer

    def report(self, consumer, elapsed):
        phases = []
        for check in consumer.checks:
            if check[0] not in phases:
                phases.append(check[0])
        print('consumer_sim [%s]: %d checks in %.1fs (every %.1fs, 2 credentials), %d reloads' % (
            self.variant, len(consumer.checks), elapsed, INTERVAL, consumer.reloads - 1))
        for phase in phases:
            rows = [c for c in consumer.checks if c[0] == phase]
            failed = [c for c in rows if not c[2]]
            kinds = sorted(set('%s %s' % (c[1], c[3]) for c in failed))
            print('  %-18s %3d checks, %3d failed%s' % (phase, len(rows), len(failed), (' (%s)' % ', '.join(kinds)) if kinds else ''))
        print('  playbooks: ' + '; '.join(self.timings), flush=True)

    def old_secrets_fail(self, consumer):
        """After the retire, the secrets the consumer held first must fail (the checks can fail), the new ones work."""
        first, last = consumer.held[0], consumer.held[-1]
        for phase, secrets in (('old secrets', first), ('new secrets', last)):
            consumer.phase = phase
            consumer.secrets = secrets
            consumer.check()
        old = [c for c in consumer.checks if c[0] == 'old secrets']
        new = [c for c in consumer.checks if c[0] == 'new secrets']
        self.expect(first != last, 'the consumer never got new secrets')
        self.expect(old and not any(c[2] for c in old), 'an old secret still works after retire.yml: %s' % [(c[1], c[3]) for c in old])
        self.expect(new and all(c[2] for c in new), 'a new secret does not work: %s' % [(c[1], c[3]) for c in new])


def main(argv):
    if len(argv) != 1 or argv[0] not in ('grace', 'off'):
        raise SystemExit(__doc__)
    if not os.environ.get('ORY_EMULATOR_ADMIN_URL'):
        raise SystemExit('consumer_sim needs the local emulator (its clock): run it under tests/utils/with_emulator.py --fresh')
    variant = argv[0]
    with tempfile.TemporaryDirectory(prefix='ory-rotation-') as work:
        driver = Driver(variant, work)
        consumer = driver.rotate()
    rotation = [c for c in consumer.checks if c[0] not in ('old secrets', 'new secrets')]
    failed = sum(1 for c in rotation if not c[2])
    after_deploy = sum(1 for c in rotation if not c[2] and c[0] in AFTER_DEPLOY)
    if variant == 'grace':
        driver.expect(failed == 0, 'with the grace period the services saw %d failed checks (expected 0)' % failed)
    else:
        driver.expect(failed > 0, 'without the grace period the services saw no failed check: the simulation cannot tell')
    driver.expect(after_deploy == 0, '%d failed checks after the deploy' % after_deploy)
    driver.expect(len(rotation) >= 40, 'only %d checks during the rotation' % len(rotation))
    print('consumer_sim [%s]: %d failed checks of %d during the rotation%s' % (
        variant, failed, len(rotation), '' if driver.problems else ' -- ok'))
    for problem in driver.problems:
        print('FAIL: ' + problem)
    return 1 if driver.problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
