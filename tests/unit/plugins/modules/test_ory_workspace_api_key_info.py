"""Unit tests of ory_workspace_api_key_info: main() over the fake transport and the in-memory console."""
from __future__ import annotations

import pytest

from ansible_collections.ory.network.plugins.modules import ory_workspace_api_key_info as module
from ansible_collections.ory.network.tests.unit.fake_transport import FakeResponse, install
from ansible_collections.ory.network.tests.unit.plugins.modules.console_fake import ConsoleFake, check_return_doc, run_main, stamp

URL = 'https://console.test'
TOKENS = r'/workspaces/[^/]+/tokens'


@pytest.fixture
def console(monkeypatch):
    fake = ConsoleFake()
    fake.http = install(monkeypatch, fake.api())
    return fake


def run(console, capsys, check=False, **extra):
    base = dict(workspace_api_key=console.workspace_api_key, console_api_url=URL, workspace_id=console.workspace_id)
    base.update(extra)
    return run_main(module, {k: v for k, v in base.items() if v is not None}, capsys, check=check)


def ok(console, capsys, check=False, **extra):
    result, code = run(console, capsys, check=check, **extra)
    assert code == 0 and not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    check_return_doc(module, result)
    assert console.http.writes() == []
    return result


@pytest.mark.parametrize('check', [False, True])
def test_lists_with_current_key(console, capsys, check):
    current = console.add_workspace_key('automation', created_at=stamp(-10), value=console.workspace_api_key)
    other = console.add_workspace_key('human', created_at=stamp(-5), expires_at=stamp(-1, 3600))
    result = ok(console, capsys, check=check)
    keys = result['api_keys']
    assert [k['id'] for k in keys] == [current['id'], other['id']]
    assert [k['is_current'] for k in keys] == [True, False]
    assert keys[0]['workspace_id'] == console.workspace_id and 'project_id' not in keys[0]
    assert keys[1]['expired'] is True and keys[1]['days_to_expiry'] == -1
    assert all('value' not in k for k in keys)
    assert console.http.calls[0][1] == '/workspaces/%s/tokens' % console.workspace_id


def test_filters(console, capsys):
    one = console.add_workspace_key('a')
    console.add_workspace_key('b')
    assert [k['id'] for k in ok(console, capsys, name='a')['api_keys']] == [one['id']]
    assert [k['id'] for k in ok(console, capsys, id=one['id'])['api_keys']] == [one['id']]
    assert ok(console, capsys, name='c')['api_keys'] == []


def test_workspace_id_from_environment(console, capsys, monkeypatch):
    monkeypatch.setenv('ORY_WORKSPACE_ID', console.workspace_id)
    console.add_workspace_key('a')
    assert len(ok(console, capsys, workspace_id=None)['api_keys']) == 1


def test_missing_workspace_id(console, capsys, monkeypatch):
    monkeypatch.delenv('ORY_WORKSPACE_ID', raising=False)
    result, code = run(console, capsys, workspace_id=None)
    assert code == 1 and 'workspace_id' in result['msg'] and console.http.calls == []


@pytest.mark.parametrize('status, reason', [(403, 'FORBIDDEN'), (401, 'UNAUTHORIZED')])
def test_denied_is_explained(console, capsys, status, reason):
    console.deny_workspace_list = status
    result, code = run(console, capsys)
    assert code == 1
    msg = result['msg']
    assert 'HTTP %s %s' % (status, reason) in msg
    assert 'does not let a workspace API key create or delete workspace API keys' in msg
    assert 'user session' in msg and console.workspace_id in msg
    assert result['status'] == status and result['reason'] == reason and result['request_id']


def test_other_errors_are_not_explained(console, capsys):
    result, code = run(console, capsys, workspace_id='unknown')
    assert code == 1 and 'HTTP 404' in result['msg'] and 'user session' not in result['msg']


def test_rate_limited_then_success(console, capsys):
    console.add_workspace_key('a')
    console.http.fail_next('GET', TOKENS, FakeResponse(429, headers={'x-ratelimit-reset': '3'}))
    result = ok(console, capsys)
    assert len(result['api_keys']) == 1 and console.http.sleeps[0] >= 3


def test_project_key_as_workspace_key(console, capsys):
    result, code = run(console, capsys, workspace_api_key=console.project_api_key)
    assert code == 1
    assert result['msg'] == 'workspace_api_key holds a project API key, but this call needs a workspace API key (ory_wak_...).'
    assert console.http.calls == []


def test_invalid_key_is_401_explained(console, capsys):
    result, code = run(console, capsys, workspace_api_key='ory_wak_not-the-right-one')
    assert code == 1 and 'HTTP 401' in result['msg'] and 'workspace_api_key' in result['msg']
