"""Unit tests of ory_issued_api_key: its main() over the fake transport and an in-memory Talos."""
from __future__ import annotations

import datetime
import uuid

import pytest
import requests

from ansible_collections.ory.network.plugins.modules import ory_issued_api_key as module
from ansible_collections.ory.network.tests.unit.fake_transport import FakeResponse, install
from ansible_collections.ory.network.tests.unit.plugins.modules.talos_fake import BASE, TalosFake, parse_stamp, run_main, utcnow

LOST = 'The new secret would be lost: register the result, set vault_dest and vault_var, or set reveal_secret: true.'


@pytest.fixture(name='talos')
def fixture_talos(monkeypatch):
    fake = TalosFake()
    install(monkeypatch, fake.api)
    return fake


def run(capsys, check_mode=False, diff=False, **args):
    return run_main(module, args, capsys, check_mode=check_mode, diff=diff)


def writes(talos):
    return talos.api.writes()


def active_keys(talos, name=None):
    return [k for k in talos.active() if name is None or k['name'] == name]


def valid(talos, secret):
    key_id = talos.secrets.get(secret)
    return key_id is not None and talos.view(key_id)['status'] == 'KEY_STATUS_ACTIVE'


# ---------------------------------------------------------------- issue, idempotency, check mode


def test_issue_new_key_returns_secret_once(talos, capsys):
    result = run(capsys, name='ci', actor_id='svc-ci', scopes=['read'], metadata={'team': 'a'}, ttl='720h',
                 ip_allowlist=['10.0.0.0/8'], rate_limit={'quota': 100, 'window': '1m'})
    assert result['changed'] is True
    assert valid(talos, result['secret'])
    key = result['api_key']
    assert key['name'] == 'ci' and key['actor_id'] == 'svc-ci' and key['scopes'] == ['read']
    assert key['rate_limit_policy'] == {'quota': 100, 'window': '60s', 'unit': 'requests'}
    assert key['ip_restriction'] == {'allowed_cidrs': ['10.0.0.0/8']}
    assert key['days_to_expiry'] in (29, 30)
    assert 'old_key_id' not in result
    (method, path, params, body, dummy), = writes(talos)
    assert (method, path) == ('POST', BASE)
    assert body['ttl'] == '720h' and body['rate_limit_policy'] == {'quota': '100', 'window': '60s', 'unit': 'requests'}
    assert str(uuid.UUID(body['request_id'])) == body['request_id']
    assert body['ip_restriction'] == {'allowed_cidrs': ['10.0.0.0/8']}


def test_second_run_is_idempotent_without_writes(talos, capsys):
    args = dict(name='ci', actor_id='svc-ci', scopes=['b', 'a'], metadata={'x': 1}, ip_allowlist=['10.1.2.3/8'],
                rate_limit={'quota': 5, 'window': '60s'}, ttl='30d', rotate_before='7d')
    first = run(capsys, **args)
    before = len(talos.api.calls)
    second = run(capsys, **args)
    assert second['changed'] is False
    assert 'secret' not in second and 'old_key_id' not in second
    assert second['api_key']['key_id'] == first['api_key']['key_id']
    assert all(c[0] == 'GET' for c in talos.api.calls[before:])
    assert len(active_keys(talos)) == 1


def test_check_mode_issue_predicts_without_writes(talos, capsys):
    result = run(capsys, check_mode=True, diff=True, name='ci', scopes=['read'], ttl='1h')
    assert result['changed'] is True
    assert 'secret' not in result
    assert result['api_key']['key_id'] is None and result['api_key']['name'] == 'ci'
    assert result['diff']['before'] == {} and result['diff']['after']['scopes'] == ['read']
    assert writes(talos) == [] and talos.keys == {}


def test_check_mode_on_existing_key_reports_no_change(talos, capsys):
    talos.seed(name='ci', scopes=['read'])
    result = run(capsys, check_mode=True, name='ci', scopes=['read'])
    assert result['changed'] is False and writes(talos) == []


# ---------------------------------------------------------------- matching


def test_match_by_key_id_renames_in_place(talos, capsys):
    key_id = talos.seed(name='old')
    result = run(capsys, key_id=key_id, name='new')
    assert result['changed'] is True and result['api_key']['key_id'] == key_id and result['api_key']['name'] == 'new'
    (method, path, params, body, dummy), = writes(talos)
    assert method == 'PATCH' and path == '%s/%s' % (BASE, key_id)
    assert params == {'update_mask': 'name'} and body == {'name': 'new'}


def test_match_by_name_ignores_revoked_and_other_names(talos, capsys):
    talos.seed(name='ci', status='KEY_STATUS_REVOKED')
    talos.seed(name='other')
    wanted = talos.seed(name='ci')
    result = run(capsys, name='ci')
    assert result['changed'] is False and result['api_key']['key_id'] == wanted
    lists = [c for c in talos.api.calls if c[1] == BASE]
    assert 'filter' not in lists[0][2]       # a status-only filter is rejected by Talos: filter client-side


def test_match_by_name_and_actor_uses_server_filter(talos, capsys):
    talos.seed(name='ci', actor_id='someone-else')
    wanted = talos.seed(name='ci', actor_id='svc "q"')
    result = run(capsys, name='ci', actor_id='svc "q"')
    assert result['changed'] is False and result['api_key']['key_id'] == wanted
    lists = [c for c in talos.api.calls if c[1] == BASE]
    assert lists[0][2]['filter'] == 'actor_id="svc \\"q\\"" AND status=KEY_STATUS_ACTIVE'


def test_duplicate_names_fail_with_both_ids(talos, capsys):
    one, two = talos.seed(name='dup'), talos.seed(name='dup')
    result = run(capsys, name='dup', scopes=['x'])
    assert result['failed'] is True
    assert one in result['msg'] and two in result['msg']
    assert writes(talos) == []


def test_matching_key_on_second_page(talos, capsys):
    talos.page_limit = 2
    for index in range(5):
        talos.seed(name='filler-%d' % index)
    wanted = talos.seed(name='needle', key_id='ffffffff-0000-4000-8000-000000000000')   # sorts last
    result = run(capsys, name='needle')
    assert result['changed'] is False and result['api_key']['key_id'] == wanted
    pages = [c for c in talos.api.calls if c[1] == BASE]
    assert len(pages) == 3 and 'page_token' in pages[1][2]


def test_unknown_key_id_fails(talos, capsys):
    result = run(capsys, key_id=str(uuid.uuid4()), scopes=['a'])
    assert result['failed'] is True and 'key_id' in result['msg'] and writes(talos) == []


def test_present_on_revoked_key_id_fails(talos, capsys):
    key_id = talos.seed(name='gone', status='KEY_STATUS_REVOKED')
    result = run(capsys, key_id=key_id)
    assert result['failed'] is True and 'revoked' in result['msg'] and writes(talos) == []


def test_name_or_key_id_required(talos, capsys):
    result = run(capsys, scopes=['a'])
    assert result['failed'] is True and 'name' in result['msg'] and 'key_id' in result['msg']


# ---------------------------------------------------------------- mutable changes: one PATCH, exact mask


@pytest.mark.parametrize('args, mask, body', [
    (dict(scopes=['read', 'write']), 'scopes', {'scopes': ['read', 'write']}),
    (dict(scopes=[]), 'scopes', {'scopes': []}),
    (dict(metadata={'team': 'b'}), 'metadata', {'metadata': {'team': 'b'}}),
    (dict(ip_allowlist=['192.168.0.0/16', '::1/128']), 'ip_restriction',
     {'ip_restriction': {'allowed_cidrs': ['192.168.0.0/16', '::1/128']}}),
    (dict(rate_limit={'quota': 10, 'window': '1h'}), 'rate_limit_policy',
     {'rate_limit_policy': {'quota': '10', 'window': '3600s', 'unit': 'requests'}}),
    (dict(rate_limit={}), 'rate_limit_policy', {}),
    (dict(scopes=['read'], metadata={'team': 'c'}, ip_allowlist=[]), 'metadata,ip_restriction',
     {'metadata': {'team': 'c'}, 'ip_restriction': {'allowed_cidrs': []}}),
])
def test_mutable_change_is_one_patch_with_changed_paths(talos, capsys, args, mask, body):
    key_id = talos.seed(name='ci', actor_id='svc', scopes=['read'], metadata={'team': 'a'},
                        rate_limit_policy={'quota': '5', 'window': '60s', 'unit': 'requests'},
                        ip_restriction={'allowed_cidrs': ['10.0.0.0/8']})
    result = run(capsys, diff=True, name='ci', actor_id='svc', **args)
    assert result['changed'] is True and result['api_key']['key_id'] == key_id
    assert 'secret' not in result
    (method, path, params, sent, dummy), = writes(talos)
    assert method == 'PATCH' and params == {'update_mask': mask} and sent == body
    assert result['diff']['before'] != result['diff']['after']
    again = run(capsys, name='ci', actor_id='svc', **args)
    assert again['changed'] is False and len(writes(talos)) == 1


def test_equivalent_values_are_not_changes(talos, capsys):
    talos.seed(name='ci', scopes=['a', 'b'], ip_restriction={'allowed_cidrs': ['10.0.0.0/8']},
               rate_limit_policy={'quota': '60', 'window': '3600s', 'unit': 'requests'})
    result = run(capsys, name='ci', scopes=['b', 'a'], ip_allowlist=['10.0.0.1/8'], rate_limit={'quota': 60, 'window': '1h'})
    assert result['changed'] is False and writes(talos) == []


def test_check_mode_patch_predicts_without_writes(talos, capsys):
    talos.seed(name='ci', scopes=['read'])
    result = run(capsys, check_mode=True, name='ci', scopes=['write'])
    assert result['changed'] is True and result['api_key']['scopes'] == ['write'] and writes(talos) == []


# ---------------------------------------------------------------- immutable changes and recreate


@pytest.mark.parametrize('args, named', [(dict(actor_id='svc-b'), 'actor_id'), (dict(visibility='public'), 'visibility')])
def test_immutable_change_without_recreate_fails_naming_it(talos, capsys, args, named):
    key_id = talos.seed(name='ci', actor_id='svc-a')
    result = run(capsys, key_id=key_id, **args)
    assert result['failed'] is True and named in result['msg'] and 'recreate: on_change' in result['msg']
    assert writes(talos) == []


def test_recreate_on_change_issues_then_revokes(talos, capsys):
    old = talos.seed(name='ci', actor_id='svc-a', scopes=['read'])
    result = run(capsys, key_id=old, actor_id='svc-b', recreate='on_change', ttl='2h')
    assert result['changed'] is True and result['old_key_id'] == old and result['old_key_retired'] is True
    assert result['api_key']['actor_id'] == 'svc-b' and result['api_key']['scopes'] == ['read']
    assert valid(talos, result['secret'])
    assert [c[0] + ' ' + c[1].rsplit('/', 1)[-1] for c in writes(talos)] == ['POST issuedApiKeys', 'POST %s:revoke' % old]
    assert talos.keys[old]['revocation_reason'] == 'REVOCATION_REASON_SUPERSEDED'


def test_recreate_with_retire_replaced_false_keeps_old_active(talos, capsys):
    old = talos.seed(name='ci', visibility='KEY_VISIBILITY_SECRET')
    result = run(capsys, name='ci', visibility='public', recreate='on_change', retire_replaced=False)
    assert result['old_key_id'] == old and talos.view(old)['status'] == 'KEY_STATUS_ACTIVE'
    assert result['old_key_retired'] is False
    assert result['api_key']['visibility'] == 'KEY_VISIBILITY_PUBLIC'


def test_check_mode_recreate_has_no_writes(talos, capsys):
    old = talos.seed(name='ci', actor_id='svc-a')
    result = run(capsys, check_mode=True, key_id=old, actor_id='svc-b', recreate='on_change')
    assert result['changed'] is True and result['old_key_id'] == old and 'secret' not in result
    assert writes(talos) == []


# ---------------------------------------------------------------- rotation


def test_rotate_always_uses_server_rotate(talos, capsys):
    old = talos.seed(name='ci', scopes=['read'], expires_in=3 * 86400)
    result = run(capsys, name='ci', rotate='always', scopes=['write'])
    assert result['changed'] is True and result['old_key_id'] == old
    assert result['api_key']['key_id'] != old and result['api_key']['scopes'] == ['write']
    assert result['api_key']['expire_time'] == talos.keys[result['api_key']['key_id']]['expire_time']
    assert valid(talos, result['secret'])
    (method, path, dummy, body, dummy2), = writes(talos)
    assert (method, path, body) == ('POST', '%s/%s:rotate' % (BASE, old), {'scopes': ['write']})
    assert talos.view(old)['status'] == 'KEY_STATUS_REVOKED'


def test_rotate_always_without_retiring_issues_successor(talos, capsys):
    old = talos.seed(name='ci', scopes=['read'], expires_in=3 * 86400)
    result = run(capsys, name='ci', rotate='always', retire_replaced=False)
    assert result['old_key_id'] == old and talos.view(old)['status'] == 'KEY_STATUS_ACTIVE'
    assert valid(talos, result['secret']) and result['api_key']['scopes'] == ['read']
    new_expiry = parse_stamp(result['api_key']['expire_time'])
    assert abs((new_expiry - parse_stamp(talos.keys[old]['expire_time'])).total_seconds()) < 5   # :rotate keeps expiry
    assert [c[0] for c in writes(talos)] == ['POST']


def test_rotate_before_issues_fresh_key_and_revokes_old(talos, capsys):
    old = talos.seed(name='ci', actor_id='svc', expires_in=2 * 86400)
    result = run(capsys, name='ci', actor_id='svc', rotate_before='7d', ttl='30d')
    assert result['changed'] is True and result['old_key_id'] == old and valid(talos, result['secret'])
    assert result['api_key']['days_to_expiry'] in (29, 30)      # a fresh ttl, not the old expiry
    assert talos.view(old)['status'] == 'KEY_STATUS_REVOKED'
    assert talos.keys[old]['revocation_reason'] == 'REVOCATION_REASON_SUPERSEDED'
    issue = [c for c in writes(talos) if c[1] == BASE][0]
    assert issue[3]['ttl'] == '30d' and issue[3]['actor_id'] == 'svc'
    again = run(capsys, name='ci', actor_id='svc', rotate_before='7d', ttl='30d')
    assert again['changed'] is False


def test_rotate_before_with_retire_replaced_false(talos, capsys):
    old = talos.seed(name='ci', expires_in=86400)
    result = run(capsys, name='ci', rotate_before='7d', retire_replaced=False)
    assert result['old_key_id'] == old and talos.view(old)['status'] == 'KEY_STATUS_ACTIVE'
    assert [c[1] for c in writes(talos)] == [BASE]
    assert 'ttl' not in writes(talos)[0][3]         # the project's default lifetime


def test_rotate_before_not_due_is_no_change(talos, capsys):
    talos.seed(name='ci', expires_in=30 * 86400)
    result = run(capsys, name='ci', rotate_before='7d')
    assert result['changed'] is False and writes(talos) == []


def test_expired_key_is_replaced(talos, capsys):
    old = talos.seed(name='ci', scopes=['read'], expires_in=-3600)
    result = run(capsys, name='ci')
    assert result['changed'] is True and result['old_key_id'] == old and valid(talos, result['secret'])
    assert result['api_key']['scopes'] == ['read']
    assert talos.view(old)['status'] == 'KEY_STATUS_REVOKED'


@pytest.mark.parametrize('args', [dict(rotate='always'), dict(rotate_before='7d')])
def test_check_mode_rotation_has_no_writes(talos, capsys, args):
    old = talos.seed(name='ci', expires_in=86400)
    result = run(capsys, check_mode=True, name='ci', **args)
    assert result['changed'] is True and result['old_key_id'] == old and 'secret' not in result
    assert writes(talos) == []


# ---------------------------------------------------------------- secret_sink none


@pytest.mark.parametrize('seed, args', [
    (None, dict()),
    (dict(expires_in=86400), dict(rotate_before='7d')),
    (dict(), dict(rotate='always')),
    (dict(actor_id='a'), dict(actor_id='b', recreate='on_change')),
])
def test_secret_sink_none_refused_before_any_write(talos, capsys, seed, args, monkeypatch):
    monkeypatch.setenv('_ORY_NETWORK_SECRET_SINK', 'none')
    if seed is not None:
        talos.seed(name='ci', **seed)
    result = run(capsys, name='ci', **args)
    assert result['failed'] is True and result['msg'] == LOST
    assert writes(talos) == []


def test_secret_sink_none_allows_changes_without_new_secret(talos, capsys, monkeypatch):
    monkeypatch.setenv('_ORY_NETWORK_SECRET_SINK', 'none')
    talos.seed(name='ci', scopes=['a'])
    result = run(capsys, name='ci', scopes=['b'])
    assert result['changed'] is True and [c[0] for c in writes(talos)] == ['PATCH']


# ---------------------------------------------------------------- state=absent


def test_absent_revokes_with_reason(talos, capsys):
    key_id = talos.seed(name='ci', actor_id='svc')
    result = run(capsys, diff=True, name='ci', actor_id='svc', state='absent', revoke_reason='key_compromise')
    assert result['changed'] is True and result['api_key']['status'] == 'KEY_STATUS_REVOKED'
    assert talos.keys[key_id]['revocation_reason'] == 'REVOCATION_REASON_KEY_COMPROMISE'
    assert result['diff']['after']['status'] == 'KEY_STATUS_REVOKED'
    again = run(capsys, name='ci', actor_id='svc', state='absent')
    assert again['changed'] is False and len(writes(talos)) == 1


def test_absent_by_key_id_already_revoked_is_no_change(talos, capsys):
    key_id = talos.seed(name='ci', status='KEY_STATUS_REVOKED')
    result = run(capsys, key_id=key_id, state='absent')
    assert result['changed'] is False and result['api_key']['key_id'] == key_id and writes(talos) == []


@pytest.mark.parametrize('args', [dict(name='nothing'), dict(key_id='00000000-0000-4000-8000-000000000000')])
def test_absent_without_match_is_no_change(talos, capsys, args):
    result = run(capsys, state='absent', **args)
    assert result['changed'] is False and result['api_key'] == {} and writes(talos) == []


def test_absent_check_mode(talos, capsys):
    talos.seed(name='ci')
    result = run(capsys, check_mode=True, name='ci', state='absent')
    assert result['changed'] is True and result['api_key']['status'] == 'KEY_STATUS_REVOKED' and writes(talos) == []


def test_absent_privilege_withdrawn_with_description(talos, capsys):
    key_id = talos.seed(name='ci')
    result = run(capsys, key_id=key_id, state='absent', revoke_reason='privilege_withdrawn', revoke_description='left the team')
    assert result['changed'] is True
    assert writes(talos)[0][3] == {'reason': 'REVOCATION_REASON_PRIVILEGE_WITHDRAWN', 'description': 'left the team'}
    assert result['api_key']['revocation_description'] == 'left the team'


def test_revoke_description_needs_privilege_withdrawn(talos, capsys):
    talos.seed(name='ci')
    result = run(capsys, name='ci', state='absent', revoke_description='why')
    assert result['failed'] is True and 'privilege_withdrawn' in result['msg'] and writes(talos) == []


# ---------------------------------------------------------------- retries and lost responses


def test_rate_limited_issue_waits_and_creates_one_key(talos, capsys):
    talos.api.fail_next('POST', BASE, FakeResponse(429, headers={'x-ratelimit-reset': '7'}))
    result = run(capsys, name='ci')
    assert result['changed'] is True and valid(talos, result['secret'])
    assert len(active_keys(talos)) == 1 and talos.api.sleeps and talos.api.sleeps[0] >= 7


def test_unavailable_list_is_retried(talos, capsys):
    talos.seed(name='ci')
    talos.api.fail_next('GET', BASE, FakeResponse(503, {'error': {'code': 503, 'status': 'UNAVAILABLE', 'message': 'busy',
                                                                  'details': [{'reason': 'SERVICE_UNAVAILABLE'}]}}), times=2)
    result = run(capsys, name='ci')
    assert result['changed'] is False and writes(talos) == []


def test_lost_issue_response_leaves_one_active_key_with_its_secret(talos, capsys):
    talos.api.fail_next('POST', BASE, requests.exceptions.ConnectionError('Connection aborted.'), commit=True)
    result = run(capsys, name='ci', actor_id='svc')
    assert result['changed'] is True
    live = active_keys(talos, 'ci')
    assert len(live) == 1 and live[0]['key_id'] == result['api_key']['key_id']
    assert valid(talos, result['secret'])
    issues = [c for c in talos.api.calls if c[0] == 'POST' and c[1] == BASE]
    assert issues[0][3]['request_id'] == issues[1][3]['request_id'] != issues[2][3]['request_id']
    orphan = [k for k in talos.keys.values() if k['status'] == 'KEY_STATUS_REVOKED']
    assert len(orphan) == 1 and orphan[0]['revocation_reason'] == 'REVOCATION_REASON_SUPERSEDED'


def test_lost_revoke_response_counts_as_done(talos, capsys):
    key_id = talos.seed(name='ci')
    talos.api.fail_next('POST', r'/issuedApiKeys/[^/]+:revoke', requests.exceptions.ConnectionError('Connection aborted.'),
                        commit=True)
    result = run(capsys, name='ci', state='absent')
    assert result['changed'] is True and result['api_key']['status'] == 'KEY_STATUS_REVOKED'
    assert talos.keys[key_id]['status'] == 'KEY_STATUS_REVOKED'


def test_lost_revoke_then_409_counts_as_done(talos, capsys):
    key_id = talos.seed(name='ci')
    talos.api.fail_next('POST', r'/issuedApiKeys/[^/]+:revoke', FakeResponse(503), commit=True)
    result = run(capsys, key_id=key_id, state='absent')
    assert result['changed'] is True and talos.keys[key_id]['status'] == 'KEY_STATUS_REVOKED'


def test_lost_rotate_response_replaces_the_orphaned_successor(talos, capsys):
    old = talos.seed(name='ci', actor_id='svc', scopes=['read'], expires_in=5 * 86400)
    talos.api.fail_next('POST', r'/issuedApiKeys/[^/]+:rotate', requests.exceptions.ConnectionError('Connection aborted.'),
                        commit=True)
    result = run(capsys, name='ci', actor_id='svc', rotate='always')
    assert result['changed'] is True and result['old_key_id'] == old
    live = active_keys(talos, 'ci')
    assert len(live) == 1 and live[0]['key_id'] == result['api_key']['key_id'] and valid(talos, result['secret'])
    assert live[0]['scopes'] == ['read']
    assert result['api_key']['days_to_expiry'] in (4, 5)       # rotation keeps the old lifetime


def test_rotate_not_sent_twice_after_uncommitted_failure(talos, capsys):
    old = talos.seed(name='ci')
    talos.api.fail_next('POST', r'/issuedApiKeys/[^/]+:rotate', requests.exceptions.ConnectionError('Connection aborted.'))
    result = run(capsys, name='ci', rotate='always')
    assert result['old_key_id'] == old and len(active_keys(talos)) == 1 and valid(talos, result['secret'])


def test_quota_exceeded_names_the_reason(talos, capsys):
    talos.quota = 1
    talos.seed(name='other')
    result = run(capsys, name='ci')
    assert result['failed'] is True and 'API_KEY_QUOTA_EXCEEDED' in result['msg'] and result['status'] == 402


def test_workspace_key_as_project_key_is_one_sentence(talos, capsys):
    result = run(capsys, name='ci', project_api_key='ory_wak_' + 'W' * 30)
    assert result['failed'] is True
    assert result['msg'].startswith('project_api_key holds a workspace API key')
    assert result['msg'].count('. ') == 0 and result['msg'].endswith('.')
    assert talos.api.calls == []


def test_invalid_options_fail_before_any_request(talos, capsys):
    for args in (dict(ttl='soon'), dict(ip_allowlist=['300.0.0.0/8']), dict(rate_limit={'quota': 5}), dict(rotate_before='x')):
        result = run(capsys, name='ci', **args)
        assert result['failed'] is True
    assert talos.api.calls == []


def test_diff_never_contains_the_secret(talos, capsys):
    result = run(capsys, diff=True, name='ci')
    assert result['secret'] not in str(result['diff'])


def test_revoked_expiry_rule_in_fake(talos):
    key_id = talos.seed(name='x', expires_in=60)
    talos._revoke(talos.keys[key_id], 'REVOCATION_REASON_SUPERSEDED')  # pylint: disable=protected-access
    assert parse_stamp(talos.keys[key_id]['expire_time']) > utcnow() + datetime.timedelta(days=29)


def test_failed_revoke_of_replaced_key_warns_and_keeps_the_secret(talos, capsys):
    old = talos.seed(name='ci', expires_in=3600)
    talos.api.fail_next('POST', r'/issuedApiKeys/[^/]+:revoke', FakeResponse(400, {'error': {
        'code': 400, 'status': 'INVALID_ARGUMENT', 'message': 'nope', 'details': [{'reason': 'BAD_REQUEST'}]}}))
    result = run(capsys, name='ci', rotate_before='1d')
    assert 'failed' not in result and valid(talos, result['secret'])
    assert result['old_key_id'] == old and result['old_key_retired'] is False
    assert old in str(result['warnings']) and 'BAD_REQUEST' in str(result['warnings'])
    assert talos.view(old)['status'] == 'KEY_STATUS_ACTIVE'


def test_expired_key_is_replaced_even_with_rotate_always(talos, capsys):
    old = talos.seed(name='ci', expires_in=-60)
    result = run(capsys, name='ci', rotate='always', ttl='3600')
    assert result['old_key_id'] == old and valid(talos, result['secret'])
    assert result['api_key']['status'] == 'KEY_STATUS_ACTIVE'
    issue = [c for c in writes(talos) if c[1] == BASE][0]
    assert issue[3]['ttl'] == '3600s'
    assert not [c for c in writes(talos) if c[1].endswith(':rotate')]


def test_lost_rotate_response_with_rename_finds_the_successor(talos, capsys):
    old = talos.seed(name='before', actor_id='svc', expires_in=5 * 86400)
    talos.api.fail_next('POST', r'/issuedApiKeys/[^/]+:rotate', requests.exceptions.ConnectionError('Connection aborted.'),
                        commit=True)
    result = run(capsys, key_id=old, name='after', rotate='always')
    assert result['old_key_id'] == old and result['api_key']['name'] == 'after'
    live = active_keys(talos)
    assert len(live) == 1 and live[0]['key_id'] == result['api_key']['key_id'] and valid(talos, result['secret'])
