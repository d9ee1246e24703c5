"""The real ansible-rulebook with the example rulebook (extensions/eda/rulebooks/rotate_expiring_keys.yml) and the
event source against the emulator: a key enters its rotation window -> the rulebook runs the bootstrap playbook
for that environment -> the key is replaced and its new secret is in the vault file.

Scene: the staging environment of docs/examples/awx/project is bootstrapped with the emulator's clock 26 days
back, so its "checkout" issued key (ttl 30d, rotate_before 7d) has 4 days left when the clock is back to now.
The rulebook stops by itself: the source ends after two events (the key entered its window; the old key is gone,
which the bootstrap causes), and ansible-rulebook shuts down once the playbook has ended. The whole run is
bounded by a timeout.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time

import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from tests.awx.awx_job import inject, load_credential_type
from tests.awx.conftest import ROOT

PROJECT = os.path.join(ROOT, 'docs', 'examples', 'awx', 'project')
# by its collection name, as the guide shows (ansible-rulebook finds it under extensions/eda/rulebooks/)
RULEBOOK = 'ory.network.rotate_expiring_keys'
SECRET_RE = re.compile(r'ory_(pat|wak|ak|pk|apikey)_[A-Za-z0-9_-]{6,}')
TIMEOUT = 420


def read_vault(path, password):
    with open(path, 'rb') as handle:
        return yaml.safe_load(VaultLib([('ory', VaultSecret(password.encode()))]).decrypt(handle.read()))


def test_a_key_entering_its_window_is_replaced_by_the_rulebook(emulator, tmp_path):
    project = tmp_path / 'project'
    shutil.copytree(PROJECT, project)
    inventory = project / 'inventory' / 'environments.yml'
    data = yaml.safe_load(inventory.read_text())
    data['ory_environments']['vars']['ory_vault_dir'] = str(tmp_path / 'vault')
    inventory.write_text(yaml.safe_dump(data))
    password_file = tmp_path / 'vault-password'
    password = secrets.token_urlsafe(24)
    password_file.write_text(password + '\n')
    password_file.chmod(0o600)

    info = emulator.info
    env = dict(os.environ)
    env.update(inject(load_credential_type(), {'workspace_api_key': info['workspace_api_key'], 'console_api_url': info['console_url'],
                                               'project_api_url': info['project_url_template']}, str(tmp_path)))
    env['ANSIBLE_VAULT_IDENTITY_LIST'] = 'ory@%s' % password_file
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env['PATH']
    bindir = os.path.dirname(sys.executable)

    # the scene: staging bootstrapped 26 days ago
    emulator.admin_call('POST', '/clock', {'offset_seconds': -26 * 86400})
    try:
        setup = subprocess.run([os.path.join(bindir, 'ansible-playbook'), '-i', str(inventory), 'bootstrap.yml', '--limit', 'staging'],
                               cwd=str(project), env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    finally:
        emulator.admin_call('POST', '/clock', {'offset_seconds': 0})
    assert setup.returncode == 0, SECRET_RE.sub('<SECRET>', setup.stdout[-3000:] + setup.stderr[-2000:])
    vault_file = tmp_path / 'vault' / 'staging.yml'
    before = read_vault(vault_file, password)
    old_id = before['ory_issued_api_key_checkout_meta']['key_id']
    old_secret = before['ory_issued_api_key_checkout']

    staging = [p for p in info['projects'] if p['slug'] == 'acme-staging'][0]
    variables = tmp_path / 'ory-eda.yml'
    variables.write_text(yaml.safe_dump({
        'ory_watched_environments': [{'name': 'staging', 'project_slug': 'acme-staging', 'project_api_key': staging['project_api_key']}],
        'ory_poll_interval': 1,
        'ory_rotate_before': '7d',
        'ory_max_events': 2,
    }))
    variables.chmod(0o600)
    emulator.reset_stats()
    started = time.monotonic()
    run = subprocess.run([os.path.join(bindir, 'ansible-rulebook'), '-r', RULEBOOK, '-i', str(inventory), '--vars', str(variables),
                          '--shutdown-delay', '30', '--print-events'],
                         cwd=str(project), env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    elapsed = time.monotonic() - started
    output = run.stdout + run.stderr
    shown = SECRET_RE.sub('<SECRET>', output)
    assert run.returncode == 0, shown[-5000:]
    # ansible-rulebook printed the events: the key entered its window, then the old key was gone; no secret
    events = re.findall(r"'key_id': '([0-9a-f-]+)',\s+'name': '([^']*)',.*?'state': '(\w+)'", output, re.S)
    assert events == [(old_id, 'staging:checkout', 'rotate_window'), (old_id, 'staging:checkout', 'gone')], shown[-5000:]
    assert not SECRET_RE.search(output), 'a secret-shaped string in the rulebook output'
    # the playbook ran for staging only
    assert re.search(r'staging\s*:\s*ok=\d+\s+changed=[1-9]', output), shown[-3000:]
    assert 'production' not in re.findall(r'^(\w+)\s*:\s*ok=', output, re.M)
    # the key was replaced, and the new secret is in the vault file
    after = read_vault(vault_file, password)
    assert after['ory_issued_api_key_checkout_meta']['key_id'] != old_id
    assert after['ory_issued_api_key_checkout'] != old_secret and after['ory_issued_api_key_checkout'].startswith('ory_ak_')
    writes = emulator.writes()
    assert sum(writes.values()) >= 1, writes
    print('rulebook run: %.0f s, writes %s' % (elapsed, writes))
