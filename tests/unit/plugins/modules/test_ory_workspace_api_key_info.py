"""Unit tests of ory_workspace_api_key_info: main() against the emulator, in process."""
from __future__ import annotations

import pytest

from ansible_collections.ory.network.plugins.modules import ory_workspace_api_key_info as module
from ansible_collections.ory.network.tests.unit.conftest import check_return_doc, in_days

SEED = 'emulator-seed'


def run(ory, run_main, check=False, **extra):
    args = ory.console_args(workspace_id=ory.workspace_id)
    args.update(extra)
    return run_main(module, {k: v for k, v in args.items() if v is not None}, check=check)


def ok(ory, run_main, check=False, **extra):
    result, code = run(ory, run_main, check=check, **extra)
    assert code == 0 and not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    check_return_doc(module, result)
    assert ory.writes() == []
    return result


@pytest.mark.parametrize('check', [False, True])
def test_lists_with_current_key(ory, run_main, check):
    other = ory.add_workspace_key('human', expires_at=in_days(-1, 3600))
    keys = {k['name']: k for k in ok(ory, run_main, check=check)['api_keys']}
    assert sorted(keys) == ['emulator-seed', 'human']
    assert keys[SEED]['is_current'] is True and keys['human']['is_current'] is False
    assert keys[SEED]['workspace_id'] == ory.workspace_id and 'project_id' not in keys[SEED]
    assert keys['human']['id'] == other['id'] and keys['human']['expired'] is True and keys['human']['days_to_expiry'] == -1
    keys = list(keys.values())
    assert all('value' not in k for k in keys)
    assert ory.calls[0].path == '/workspaces/%s/tokens' % ory.workspace_id


def test_filters(ory, run_main):
    one = ory.add_workspace_key('a')
    ory.add_workspace_key('b')
    assert [k['id'] for k in ok(ory, run_main, name='a')['api_keys']] == [one['id']]
    assert [k['id'] for k in ok(ory, run_main, id=one['id'])['api_keys']] == [one['id']]
    assert ok(ory, run_main, name='c')['api_keys'] == []


def test_workspace_id_from_environment(ory, run_main, monkeypatch):
    monkeypatch.setenv('ORY_WORKSPACE_ID', ory.workspace_id)
    ory.add_workspace_key('a')
    assert len(ok(ory, run_main, workspace_id=None)['api_keys']) == 2


def test_missing_workspace_id(ory, run_main):
    result, code = run(ory, run_main, workspace_id=None)
    assert code == 1 and 'workspace_id' in result['msg'] and ory.calls == []


def test_denied_is_explained(ory, run_main):
    result, code = run(ory, run_main, workspace_api_key='ory_wak_' + 'n' * 40)
    assert code == 1
    msg = result['msg']
    assert 'HTTP 401 UNAUTHORIZED' in msg
    assert 'does not let a workspace API key create or delete workspace API keys' in msg
    assert 'user session' in msg and ory.workspace_id in msg
    assert result['status'] == 401 and result['reason'] == 'UNAUTHORIZED' and result['request_id']


def test_other_errors_are_not_explained(ory, run_main):
    result, code = run(ory, run_main, workspace_id='00000000-0000-4000-8000-000000000000')
    assert code == 1 and 'HTTP 404' in result['msg'] and 'user session' not in result['msg']


def test_rate_limited_then_success(ory, run_main):
    ory.fault(fault='rate_limit', reset=3, endpoint='GET /workspaces/{workspace}/tokens')
    result = ok(ory, run_main)
    assert len(result['api_keys']) == 1 and ory.sleeps[0] >= 3


def test_project_key_as_workspace_key(ory, run_main):
    result, code = run(ory, run_main, workspace_api_key=ory.project_api_key)
    assert code == 1
    assert result['msg'] == 'workspace_api_key holds a project API key, but this call needs a workspace API key (ory_wak_...).'
    assert ory.calls == []
