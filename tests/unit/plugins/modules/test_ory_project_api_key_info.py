"""Unit tests of ory_project_api_key_info: main() against the emulator, in process."""
from __future__ import annotations

from ansible_collections.ory.network.plugins.modules import ory_project_api_key_info as module
from ansible_collections.ory.network.tests.unit.conftest import check_return_doc, in_days

SEED = 'emulator-seed'


def run(ory, run_main, check=False, **extra):
    args = ory.console_args(project_id=ory.project_id)
    args.update(extra)
    return run_main(module, {k: v for k, v in args.items() if v is not None}, check=check)


def ok(ory, run_main, check=False, **extra):
    result, code = run(ory, run_main, check=check, **extra)
    assert code == 0 and not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    check_return_doc(module, result)
    assert ory.writes() == []
    return result


def mine(keys):
    return [k for k in keys if k['name'] != SEED]


def test_lists_metadata_only(ory, run_main):
    old = ory.add_project_key('ci', created_at=in_days(-100), expires_at=in_days(-10))
    new = ory.add_project_key('ci', expires_at=in_days(30, 60))
    never = ory.add_project_key('reporting', created_at=in_days(-50))
    keys = mine(ok(ory, run_main)['api_keys'])
    assert [k['id'] for k in keys] == [old['id'], never['id'], new['id']]   # oldest first
    assert all('value' not in k for k in keys)
    by_id = {k['id']: k for k in keys}
    assert by_id[old['id']]['expired'] is True and by_id[old['id']]['days_to_expiry'] < 0
    assert by_id[new['id']]['expired'] is False and by_id[new['id']]['days_to_expiry'] == 30
    assert by_id[never['id']]['expires_at'] is None and by_id[never['id']]['days_to_expiry'] is None
    assert by_id[never['id']]['project_id'] == ory.project_id
    assert [c.method for c in ory.calls] == ['GET']


def test_filters(ory, run_main):
    one = ory.add_project_key('ci')
    two = ory.add_project_key('ci')
    ory.add_project_key('reporting')
    assert {k['id'] for k in ok(ory, run_main, name='ci')['api_keys']} == {one['id'], two['id']}
    assert [k['id'] for k in ok(ory, run_main, id=two['id'])['api_keys']] == [two['id']]
    assert ok(ory, run_main, id=two['id'], name='reporting')['api_keys'] == []
    assert ok(ory, run_main, name='missing')['api_keys'] == []


def test_project_with_only_the_seed_key(ory, run_main):
    assert [k['name'] for k in ok(ory, run_main)['api_keys']] == [SEED]


def test_is_current(ory, run_main):
    other = ory.add_project_key('ci')
    result = ok(ory, run_main, project_api_key=ory.project_api_key)
    flags = {k['name']: k['is_current'] for k in result['api_keys']}
    assert flags == {SEED: True, 'ci': False}
    assert other['id'] in [k['id'] for k in result['api_keys']]
    # without a project API key in use, no key is current
    assert not any(k['is_current'] for k in ok(ory, run_main)['api_keys'])


def test_is_current_ignores_empty_last_characters(ory, run_main):
    with ory.state.lock:
        for rec in ory.state.data['project_keys']:
            rec['last_characters'] = ''          # keys made before the API returned last_characters
    result = ok(ory, run_main, project_api_key=ory.project_api_key)
    assert [k['is_current'] for k in result['api_keys']] == [False]


def test_check_mode(ory, run_main):
    ory.add_project_key('ci')
    assert len(mine(ok(ory, run_main, check=True)['api_keys'])) == 1


def test_project_id_from_environment(ory, run_main, monkeypatch):
    monkeypatch.setenv('ORY_PROJECT_ID', ory.project_slug)
    ory.add_project_key('ci')
    assert len(mine(ok(ory, run_main, project_id=None)['api_keys'])) == 1
    assert ory.calls[0].path == '/projects/%s/tokens' % ory.project_slug


def test_retry_on_503(ory, run_main):
    ory.add_project_key('ci')
    ory.fault(fault='status', status=503, endpoint='GET /projects/{project}/tokens', times=2)
    result = ok(ory, run_main)
    assert len(mine(result['api_keys'])) == 1 and len(ory.calls) == 3 and len(ory.sleeps) == 2


def test_error_envelope(ory, run_main):
    result, code = run(ory, run_main, project_id='00000000-0000-4000-8000-000000000000')
    assert code == 1
    assert 'HTTP 404' in result['msg'] and 'request id' in result['msg']
    assert result['status'] == 404 and result['request_id']


def test_wrong_credential_kind(ory, run_main):
    result, code = run(ory, run_main, workspace_api_key=ory.project_api_key)
    assert code == 1
    assert result['msg'] == 'workspace_api_key holds a project API key, but this call needs a workspace API key (ory_wak_...).'
    assert ory.calls == []
