# Emulator process and admin API: first line, stats, project knobs, clock, persistence across restarts, config files, signals.
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from ory_client.models import IssuedApiKey

from .helpers import FIRST_LINE_KEYS, ISSUE, ROOT, VERIFY, Emulator, sdk


def test_first_line(emu):
    info = emu.info
    assert set(info) == FIRST_LINE_KEYS
    port = info['console_url'].rsplit(':', 1)[1]
    assert info['console_url'] == 'http://127.0.0.1:%s' % port
    assert info['project_url'] == 'http://127.0.0.1:%s/p/emulated-project' % port
    assert info['project_url_template'] == 'http://127.0.0.1:%s/p/%%s' % port
    assert info['admin_url'] == 'http://127.0.0.1:%s/__emulator' % port
    assert info['project_slug'] == 'emulated-project'
    assert info['workspace_api_key'].startswith('ory_wak_')
    assert info['project_api_key'].startswith('ory_pat_')
    assert info['projects'] == [{'id': info['project_id'], 'slug': 'emulated-project', 'name': 'Emulated Project',
                                 'project_api_key': info['project_api_key'], 'project_url': info['project_url']}]
    assert emu.admin('GET', '/health').status_code == 200
    assert emu.admin('GET', '/info').json() == info


def test_stats(fresh):
    assert fresh.admin('GET', '/stats').json() == {'total': 0, 'requests': {}}
    body = fresh.issue(name='s')
    key_id = body['issued_api_key']['key_id']
    fresh.verify(body['secret'])
    fresh.verify(body['secret'])
    fresh.revoke(key_id)
    fresh.talos('GET', ISSUE + '/' + key_id)
    fresh.talos('PATCH', ISSUE + '/' + key_id, json={'name': 'x'})
    fresh.talos('POST', ISSUE + '/%s:rotate' % key_id, json={})
    fresh.talos('GET', ISSUE, key=None)
    fresh.console('GET', '/projects/%s/tokens' % fresh.info['project_slug'])
    fresh.console('GET', '/nope')
    fresh.admin('GET', '/health')
    stats = fresh.admin('GET', '/stats').json()
    assert stats == {'total': 10, 'requests': {
        'POST /v2alpha1/admin/issuedApiKeys': 1,
        'POST /v2alpha1/admin/apiKeys:verify': 2,
        'POST /v2alpha1/admin/issuedApiKeys/{key_id}:revoke': 1,
        'GET /v2alpha1/admin/issuedApiKeys/{key_id}': 1,
        'PATCH /v2alpha1/admin/issuedApiKeys/{key_id}': 1,
        'POST /v2alpha1/admin/issuedApiKeys/{key_id}:rotate': 1,
        'GET /v2alpha1/admin/issuedApiKeys': 1,
        'GET /projects/{project}/tokens': 1,
        'GET (unmatched)': 1,
    }}
    assert fresh.admin('DELETE', '/stats').status_code == 200
    assert fresh.admin('GET', '/stats').json() == {'total': 0, 'requests': {}}
    fresh.talos('POST', VERIFY, json={'credential': 'x'})
    assert fresh.admin('GET', '/stats').json()['requests'] == {'POST /v2alpha1/admin/apiKeys:verify': 1}


def test_project_knobs(fresh):
    settings = fresh.admin('GET', '/projects/emulated-project').json()
    assert settings['default_ttl'] == '168h0m0s' and settings['max_ttl'] == '17520h0m0s'
    assert settings['key_quota'] == 1000 and settings['prefix'] == 'ory_ak' and settings['public_prefix'] == 'ory_pk'
    updated = fresh.set_project(default_ttl='2d', max_ttl='1w', key_quota=5, public_prefix='acme_pub')
    assert updated['default_ttl'] == '48h0m0s' and updated['max_ttl'] == '168h0m0s' and updated['key_quota'] == 5
    assert fresh.admin('GET', '/projects').json() == [updated]
    for bad in ({'default_ttl': 'abc'}, {'max_ttl': '0s'}, {'key_quota': -1}, {'key_quota': 'many'}, {'public_prefix': 'bad prefix!'},
                {'unknown': 1}, {'max_ttl': None}):
        resp = fresh.admin('PATCH', '/projects/emulated-project', json=bad)
        assert resp.status_code == 400, bad
    assert fresh.admin('PATCH', '/projects/nope', json={'key_quota': 1}).status_code == 404
    assert fresh.admin('GET', '/nope').status_code == 404


def test_clock(fresh):
    clock = fresh.admin('GET', '/clock').json()
    assert clock['offset_seconds'] == 0 and clock['now'].endswith('Z')
    assert fresh.advance('30d')['offset_seconds'] == 30 * 86400
    assert fresh.advance(60)['offset_seconds'] == 30 * 86400 + 60
    assert fresh.admin('POST', '/clock', json={'offset_seconds': -5}).json()['offset_seconds'] == -5
    for bad in ({}, {'advance': 'soon'}, {'offset_seconds': 'x'}):
        assert fresh.admin('POST', '/clock', json=bad).status_code == 400


def test_restart_keeps_state(make_emu):
    emulator = make_emu()
    first_info = dict(emulator.info)
    kept = emulator.issue(name='kept', actor_id='p', request_id='persist-1')
    revoked = emulator.issue(name='revoked', actor_id='p')
    emulator.revoke(revoked['issued_api_key']['key_id'])
    emulator.talos('PATCH', ISSUE + '/' + kept['issued_api_key']['key_id'], params={'update_mask': 'scopes'}, json={'scopes': ['z']})
    console_key = emulator.console('POST', '/projects/%s/tokens' % first_info['project_id'], json={'name': 'persisted'}).json()
    emulator.set_project(key_quota=7)
    emulator.advance('1h')
    before = emulator.talos('GET', ISSUE).json()

    info = emulator.restart()
    assert info['workspace_api_key'] == first_info['workspace_api_key']
    assert info['project_api_key'] == first_info['project_api_key']
    assert info['project_id'] == first_info['project_id'] and info['workspace_id'] == first_info['workspace_id']
    assert {k: v for k, v in info.items() if 'url' not in k and k != 'projects'} == \
        {k: v for k, v in first_info.items() if 'url' not in k and k != 'projects'}
    assert emulator.talos('GET', ISSUE).json() == before
    assert emulator.verify(kept['secret'])['is_valid'] is True
    assert emulator.verify(revoked['secret'])['error_code'] == 'VERIFICATION_ERROR_REVOKED'
    assert sdk(IssuedApiKey, emulator.get_key(kept['issued_api_key']['key_id'])).scopes == ['z']
    replay = emulator.issue(name='kept', request_id='persist-1')
    assert replay['issued_api_key']['key_id'] == kept['issued_api_key']['key_id'] and 'secret' not in replay
    assert emulator.talos('GET', ISSUE, key=console_key['value']).status_code == 200
    assert emulator.admin('GET', '/projects/emulated-project').json()['key_quota'] == 7
    assert emulator.admin('GET', '/clock').json()['offset_seconds'] == 3600
    # secrets are not stored in clear: only the seeded keys are
    with open(emulator.state_file, encoding='utf-8') as handle:
        text = handle.read()
    assert kept['secret'] not in text and console_key['value'] not in text
    assert oct(os.stat(emulator.state_file).st_mode & 0o777) == '0o600'


def test_sigint_and_in_memory_mode(tmp_path):
    proc = subprocess.Popen([sys.executable, '-m', 'tests.emulator', '--port', '0'], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        assert set(info) == FIRST_LINE_KEYS
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
        proc.stdout.close()
    assert not list(tmp_path.iterdir())


def test_yaml_config(tmp_path):
    config = tmp_path / 'seed.yml'
    config.write_text('workspace:\n  id: 5b1c2f6e-0c35-4a43-9d44-7b3c4a0b2a11\n  name: Acme\n  api_key: ory_wak_yaml_seeded_workspace_key\n'
                      'projects:\n  - slug: prod\n    name: Production\n    api_key: ory_pat_yaml_seeded_project_key\n    key_quota: 3\n'
                      '    default_ttl: 1d\n    max_ttl: 30d\n    public_prefix: null\n  - slug: staging\n', encoding='utf-8')
    emulator = Emulator(tmp_path, args=['--config', str(config)]).start()
    try:
        info = emulator.info
        assert info['workspace_id'] == '5b1c2f6e-0c35-4a43-9d44-7b3c4a0b2a11'
        assert info['workspace_api_key'] == 'ory_wak_yaml_seeded_workspace_key'
        assert info['project_slug'] == 'prod' and info['project_api_key'] == 'ory_pat_yaml_seeded_project_key'
        assert [project['slug'] for project in info['projects']] == ['prod', 'staging']
        settings = emulator.admin('GET', '/projects/prod').json()
        assert (settings['default_ttl'], settings['max_ttl'], settings['key_quota'], settings['public_prefix']) == ('24h0m0s', '720h0m0s', 3, None)
        assert emulator.admin('GET', '/projects/staging').json()['key_quota'] == 1000
    finally:
        assert emulator.stop() == 0


def test_bad_config_exits_nonzero(tmp_path):
    for text in ('projects: [{name: no-slug}]', 'projects: [{slug: ok, default_ttl: forever}]', '{"faults": [{"fault": "nope"}]}', '[1, 2]'):
        config = tmp_path / 'bad.yml'
        config.write_text(text, encoding='utf-8')
        proc = subprocess.run([sys.executable, '-m', 'tests.emulator', '--port', '0', '--config', str(config)], cwd=ROOT,
                              capture_output=True, text=True, timeout=30, check=False)
        assert proc.returncode == 2, (text, proc.stderr)
        assert proc.stdout == ''
        assert 'Traceback' not in proc.stderr and proc.stderr.startswith('emulator: ')
