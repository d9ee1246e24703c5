# Console plane: project API keys (create/list/delete) and workspace API keys, with the herodot error envelope.
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from ory_client.models import ProjectApiKey, WorkspaceApiKey

from .helpers import assert_herodot, assert_timestamps, sdk, sdk_list


def _tokens(emulator, project=None):
    return '/projects/%s/tokens' % (project or emulator.info['project_id'])


def _future(days=365):
    return (datetime.now(timezone.utc) + timedelta(days=days)).replace(microsecond=0)


def test_create_list_delete_project_key(emu):
    name = 'ansible-ci-%s' % uuid.uuid4().hex[:6]
    resp = emu.console('POST', _tokens(emu), json={'name': name})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    key = sdk(ProjectApiKey, body)
    assert key.name == name
    assert str(key.project_id) == emu.info['project_id']
    assert key.value.startswith('ory_pat_') and len(key.value) >= 40
    assert key.last_characters == key.value[-4:]
    assert 'expires_at' in body and body['expires_at'] is None
    assert_timestamps(body, 'created_at', 'updated_at')

    resp = emu.console('GET', _tokens(emu, emu.info['project_slug']))
    assert resp.status_code == 200
    listed = sdk_list(ProjectApiKey, resp.json())
    mine = [item for item in listed if item.id == key.id]
    assert len(mine) == 1 and mine[0].value is None and 'value' not in resp.json()[listed.index(mine[0])]
    assert mine[0].last_characters == key.last_characters
    assert all(item.value is None for item in listed)

    resp = emu.console('DELETE', '%s/%s' % (_tokens(emu), key.id))
    assert resp.status_code == 204 and resp.content == b''
    assert key.id not in [item.id for item in sdk_list(ProjectApiKey, emu.console('GET', _tokens(emu)).json())]
    assert_herodot(emu.console('DELETE', '%s/%s' % (_tokens(emu), key.id)), 404, 'not_found')


def test_expires_at_round_trips_in_whole_seconds(emu):
    when = _future()
    resp = emu.console('POST', _tokens(emu), json={'name': 'exp', 'expires_at': when.isoformat().replace('+00:00', 'Z')})
    assert resp.status_code == 201, resp.text
    assert resp.json()['expires_at'] == when.strftime('%Y-%m-%dT%H:%M:%SZ')
    # sub-second and offset input is normalised to whole seconds UTC
    resp = emu.console('POST', _tokens(emu), json={'name': 'exp2', 'expires_at': '2099-06-01T12:00:00.789+02:00'})
    assert resp.status_code == 201, resp.text
    assert resp.json()['expires_at'] == '2099-06-01T10:00:00Z'
    listed = {item['id']: item for item in emu.console('GET', _tokens(emu)).json()}
    assert listed[resp.json()['id']]['expires_at'] == '2099-06-01T10:00:00Z'
    resp = emu.console('POST', _tokens(emu), json={'name': 'exp3', 'expires_at': None})
    assert resp.status_code == 201 and resp.json()['expires_at'] is None


@pytest.mark.parametrize('body', [
    {}, {'name': ''}, {'name': 5}, {'name': None}, {'name': 'x', 'expires_at': 'tomorrow'}, {'name': 'x', 'expires_at': 12},
    {'name': 'x', 'expires_at': '2020-01-01T00:00:00Z'}, {'name': 'x', 'expires_at': '2099-01-01T00:00:00'}, ['name'], 'name',
])
def test_create_project_key_bad_body(emu, body):
    assert_herodot(emu.console('POST', _tokens(emu), json=body), 400, 'bad_request')


def test_create_project_key_malformed_json(emu):
    resp = emu.console('POST', _tokens(emu), data=b'{"name": ', headers={'Content-Type': 'application/json'})
    assert_herodot(resp, 400)
    assert_herodot(emu.console('POST', _tokens(emu)), 400)


def test_unknown_project_and_token(emu):
    assert_herodot(emu.console('GET', '/projects/%s/tokens' % uuid.uuid4()), 404, 'not_found')
    assert_herodot(emu.console('POST', '/projects/no-such-slug/tokens', json={'name': 'x'}), 404, 'not_found')
    assert_herodot(emu.console('DELETE', '%s/%s' % (_tokens(emu), uuid.uuid4())), 404, 'not_found')


def test_workspace_keys(emu):
    path = '/workspaces/%s/tokens' % emu.info['workspace_id']
    resp = emu.console('GET', path)
    assert resp.status_code == 200
    keys = sdk_list(WorkspaceApiKey, resp.json())
    seed = [key for key in keys if key.last_characters == emu.info['workspace_api_key'][-4:]]
    assert len(seed) == 1
    assert str(seed[0].workspace_id) == emu.info['workspace_id']
    assert all(key.value is None for key in keys)
    assert all('project_id' not in item for item in resp.json())

    err = assert_herodot(emu.console('POST', path, json={'name': 'new'}), 403, 'forbidden')
    assert 'workspace API keys cannot be managed with a workspace API key' in err['reason']
    assert_herodot(emu.console('DELETE', '%s/%s' % (path, seed[0].id)), 403, 'forbidden')
    assert_herodot(emu.console('GET', '/workspaces/%s/tokens' % uuid.uuid4()), 404, 'not_found')
    assert len(emu.console('GET', path).json()) == len(keys)


def test_console_key_owner_and_ids(emu):
    body = emu.console('POST', _tokens(emu), json={'name': 'owner'}).json()
    uuid.UUID(body['id'])
    uuid.UUID(body['owner_id'])
    seed_key = [item for item in emu.console('GET', '/workspaces/%s/tokens' % emu.info['workspace_id']).json()
                if item['last_characters'] == emu.info['workspace_api_key'][-4:]][0]
    assert body['owner_id'] == seed_key['owner_id']
