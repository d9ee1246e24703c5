"""Unit tests of ory_project_api_key_info: main() over the fake transport and the in-memory console."""
from __future__ import annotations

import pytest

from ansible_collections.ory.network.plugins.modules import ory_project_api_key_info as module
from ansible_collections.ory.network.tests.unit.fake_transport import FakeResponse, install
from ansible_collections.ory.network.tests.unit.plugins.modules.console_fake import ConsoleFake, check_return_doc, run_main, stamp

URL = 'https://console.test'
TOKENS = r'/projects/[^/]+/tokens'


@pytest.fixture
def console(monkeypatch):
    fake = ConsoleFake()
    fake.http = install(monkeypatch, fake.api())
    return fake


def run(console, capsys, check=False, **extra):
    base = dict(workspace_api_key=console.workspace_api_key, console_api_url=URL, project_id=console.project_id)
    base.update(extra)
    return run_main(module, {k: v for k, v in base.items() if v is not None}, capsys, check=check)


def ok(console, capsys, check=False, **extra):
    result, code = run(console, capsys, check=check, **extra)
    assert code == 0 and not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    check_return_doc(module, result)
    assert console.http.writes() == []
    return result


def test_lists_metadata_only(console, capsys):
    old = console.add_project_key('ci', created_at=stamp(-100), expires_at=stamp(-10))
    new = console.add_project_key('ci', created_at=stamp(-1), expires_at=stamp(30, 60))
    never = console.add_project_key('reporting', created_at=stamp(-50))
    result = ok(console, capsys)
    keys = result['api_keys']
    assert [k['id'] for k in keys] == [old['id'], never['id'], new['id']]   # oldest first
    assert all('value' not in k for k in keys)
    by_id = {k['id']: k for k in keys}
    assert by_id[old['id']]['expired'] is True and by_id[old['id']]['days_to_expiry'] < 0
    assert by_id[new['id']]['expired'] is False and by_id[new['id']]['days_to_expiry'] == 30
    assert by_id[never['id']]['expires_at'] is None and by_id[never['id']]['days_to_expiry'] is None
    assert by_id[never['id']]['project_id'] == console.project_id
    assert [c[0] for c in console.http.calls] == ['GET']


def test_filters(console, capsys):
    one = console.add_project_key('ci')
    two = console.add_project_key('ci')
    console.add_project_key('reporting')
    assert {k['id'] for k in ok(console, capsys, name='ci')['api_keys']} == {one['id'], two['id']}
    assert [k['id'] for k in ok(console, capsys, id=two['id'])['api_keys']] == [two['id']]
    assert ok(console, capsys, id=two['id'], name='reporting')['api_keys'] == []
    assert ok(console, capsys, name='missing')['api_keys'] == []


def test_empty_project(console, capsys):
    assert ok(console, capsys)['api_keys'] == []


def test_is_current(console, capsys):
    current = console.add_project_key('automation', value=console.project_api_key)
    other = console.add_project_key('ci')
    result = ok(console, capsys, project_api_key=console.project_api_key)
    flags = {k['id']: k['is_current'] for k in result['api_keys']}
    assert flags == {current['id']: True, other['id']: False}
    # without a project API key in use, no key is current
    assert not any(k['is_current'] for k in ok(console, capsys)['api_keys'])


def test_is_current_ignores_empty_last_characters(console, capsys):
    key = console.add_project_key('legacy')
    console.project_keys[0]['last_characters'] = ''
    result = ok(console, capsys, project_api_key=console.project_api_key)
    assert result['api_keys'][0]['id'] == key['id'] and result['api_keys'][0]['is_current'] is False


def test_check_mode(console, capsys):
    console.add_project_key('ci')
    result = ok(console, capsys, check=True)
    assert len(result['api_keys']) == 1


def test_project_id_from_environment(console, capsys, monkeypatch):
    monkeypatch.setenv('ORY_PROJECT_ID', console.project_slug)
    console.add_project_key('ci')
    result = ok(console, capsys, project_id=None)
    assert len(result['api_keys']) == 1
    assert console.http.calls[0][1] == '/projects/%s/tokens' % console.project_slug


def test_retry_on_503(console, capsys):
    console.add_project_key('ci')
    console.http.fail_next('GET', TOKENS, FakeResponse(503), times=2)
    result = ok(console, capsys)
    assert len(result['api_keys']) == 1 and len(console.http.calls) == 3


def test_error_envelope(console, capsys):
    console.http.fail_next('GET', TOKENS, FakeResponse(403, {'error': {
        'id': 'forbidden', 'code': 403, 'status': 'Forbidden', 'reason': 'The key is not allowed to read this project.',
        'message': 'The requested action was forbidden', 'request': 'req-77'}}), times=1)
    result, code = run(console, capsys)
    assert code == 1
    assert 'HTTP 403 FORBIDDEN' in result['msg'] and 'not allowed' in result['msg'] and 'req-77' in result['msg']


def test_wrong_credential_kind(console, capsys):
    result, code = run(console, capsys, workspace_api_key=console.project_api_key)
    assert code == 1
    assert result['msg'] == 'workspace_api_key holds a project API key, but this call needs a workspace API key (ory_wak_...).'
    assert console.http.calls == []
