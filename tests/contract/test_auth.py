# Authentication matrix on both planes: 401 for missing/unknown/expired keys, 403 for the wrong key type, 404 for unknown projects.
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from .helpers import ISSUE, VERIFY, assert_aip, assert_herodot

MISSING = '0b5d3f0e-1c1e-4c8e-9c44-3c5f7d3c2a10'  # fixed, so xdist workers collect the same test ids
CONSOLE_CALLS = [
    ('POST', '/projects/{project}/tokens', {'name': 'x'}),
    ('GET', '/projects/{project}/tokens', None),
    ('DELETE', '/projects/{project}/tokens/' + MISSING, None),
    ('GET', '/workspaces/{workspace}/tokens', None),
    ('POST', '/workspaces/{workspace}/tokens', {'name': 'x'}),
    ('DELETE', '/workspaces/{workspace}/tokens/' + MISSING, None),
]
TALOS_CALLS = [
    ('POST', ISSUE, {'name': 'x'}),
    ('GET', ISSUE, None),
    ('GET', ISSUE + '/' + MISSING, None),
    ('PATCH', ISSUE + '/' + MISSING, {'name': 'x'}),
    ('POST', ISSUE + '/%s:revoke' % MISSING, {'reason': 'REVOCATION_REASON_KEY_COMPROMISE'}),
    ('POST', ISSUE + '/%s:rotate' % MISSING, {}),
    ('POST', VERIFY, {'credential': 'x'}),
    ('POST', '/v2alpha1/admin/apiKeys:batchVerify', {'requests': []}),
]


def _console_path(emulator, template):
    return template.format(project=emulator.info['project_id'], workspace=emulator.info['workspace_id'])


@pytest.mark.parametrize('method,template,body', CONSOLE_CALLS)
def test_console_auth(emu, method, template, body):
    path = _console_path(emu, template)
    assert_herodot(emu.console(method, path, key=None, json=body), 401, 'unauthorized')
    assert_herodot(emu.console(method, path, key='ory_wak_unknown', json=body), 401, 'unauthorized')
    assert_herodot(emu.console(method, path, key=None, json=body, headers={'Authorization': 'Basic Zm9vOmJhcg=='}), 401)
    assert_herodot(emu.console(method, path, key='project', json=body), 403, 'forbidden')


@pytest.mark.parametrize('method,path,body', TALOS_CALLS)
def test_talos_auth(emu, method, path, body):
    assert_herodot(emu.talos(method, path, key=None, json=body), 401, 'unauthorized')
    assert_herodot(emu.talos(method, path, key='ory_pat_unknown', json=body), 401, 'unauthorized')
    assert_herodot(emu.talos(method, path, key='workspace', json=body), 403, 'forbidden')


def test_unknown_project_slug(emu):
    assert_herodot(emu.talos('POST', ISSUE, slug='no-such-project', json={'name': 'x'}), 404, 'not_found')
    assert_herodot(emu.talos('POST', '/v2alpha1/apiKeys:selfRevoke', slug='no-such-project', key=None, json={}), 404)


def test_self_revoke_needs_no_auth(emu):
    resp = emu.talos('POST', '/v2alpha1/apiKeys:selfRevoke', key=None, json={'credential': 'x'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')


def test_console_created_project_key_works_on_talos(fresh):
    created = fresh.console('POST', '/projects/%s/tokens' % fresh.info['project_slug'], json={'name': 'talos-user'}).json()
    value = created['value']
    assert fresh.talos('GET', ISSUE, key=value).status_code == 200
    assert fresh.issue(key=value, name='via-console-key')['secret']
    resp = fresh.console('DELETE', '/projects/%s/tokens/%s' % (fresh.info['project_id'], created['id']))
    assert resp.status_code == 204
    assert_herodot(fresh.talos('GET', ISSUE, key=value), 401, 'unauthorized')
    # the seeded key is a console token too
    seed = [item for item in fresh.console('GET', '/projects/%s/tokens' % fresh.info['project_id']).json()
            if item['last_characters'] == fresh.info['project_api_key'][-4:]]
    assert len(seed) == 1


def test_expired_project_key_is_rejected(fresh):
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')
    created = fresh.console('POST', '/projects/%s/tokens' % fresh.info['project_id'], json={'name': 'short', 'expires_at': soon}).json()
    assert fresh.talos('GET', ISSUE, key=created['value']).status_code == 200
    fresh.advance('2h')
    assert_herodot(fresh.talos('GET', ISSUE, key=created['value']), 401, 'unauthorized')
    # expired keys stay listed; clients compare expires_at themselves
    ids = [item['id'] for item in fresh.console('GET', '/projects/%s/tokens' % fresh.info['project_id']).json()]
    assert created['id'] in ids


def test_expired_workspace_key_is_rejected(make_emu):
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')
    emulator = make_emu(config={'workspace': {'api_key': 'ory_wak_contract_test_key', 'api_key_expires_at': soon}})
    assert emulator.info['workspace_api_key'] == 'ory_wak_contract_test_key'
    path = '/projects/%s/tokens' % emulator.info['project_id']
    assert emulator.console('GET', path).status_code == 200
    emulator.advance('61m')
    assert_herodot(emulator.console('GET', path), 401, 'unauthorized')


def test_project_key_of_other_project(make_emu):
    emulator = make_emu(config={'projects': [{'slug': 'alpha'}, {'slug': 'beta'}]})
    alpha, beta = emulator.info['projects']
    assert emulator.talos('GET', ISSUE, slug='alpha', key=alpha['project_api_key']).status_code == 200
    assert_herodot(emulator.talos('GET', ISSUE, slug='beta', key=alpha['project_api_key']), 401, 'unauthorized')
    assert emulator.talos('GET', ISSUE, slug='beta', key=beta['project_api_key']).status_code == 200
    # keys are per project
    emulator.issue(slug='alpha', key=alpha['project_api_key'], name='a')
    listed = emulator.talos('GET', ISSUE, slug='beta', key=beta['project_api_key']).json()
    assert listed['issued_api_keys'] == []
