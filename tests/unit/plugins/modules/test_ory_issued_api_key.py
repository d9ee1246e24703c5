"""Unit tests of ory_issued_api_key: main() against the emulator (Ory Talos), in process."""
from __future__ import annotations

import datetime
import uuid

import pytest

from ansible_collections.ory.network.plugins.modules import ory_issued_api_key as module
from ansible_collections.ory.network.tests.unit.conftest import check_return_doc

LOST = 'The new secret would be lost: register the result, set vault_dest and vault_var, or set reveal_secret: true.'
BASE = '/v2alpha1/admin/issuedApiKeys'
ISSUE = 'POST ' + BASE
LIST = 'GET ' + BASE
REVOKE = 'POST ' + BASE + '/{key_id}:revoke'
ROTATE = 'POST ' + BASE + '/{key_id}:rotate'


def run(ory, run_main, check_mode=False, diff=False, **args):
    result, code = run_main(module, ory.talos_args(**args), check=check_mode, diff=diff)
    if code == 0:
        check_return_doc(module, result)
    return result


def _as_tuple(call, slug):
    path = call.path[len('/p/%s' % slug):] if call.path.startswith('/p/%s/' % slug) else call.path
    params = dict((k, v[-1]) for k, v in call.query.items())
    return (call.method, path, params, call.body, call.headers)


def calls(ory):
    """(method, path below the project URL, query, body, headers) of every request the module sent."""
    return [_as_tuple(c, ory.project_slug) for c in ory.calls]


def writes(ory):
    return [c for c in calls(ory) if c[0] != 'GET']


def seed(ory, name, status=None, expires_in=None, rate_limit_policy=None, **fields):
    """An issued key created through Talos (expired or revoked as time or another client would make it); its key_id."""
    body = dict(fields, name=name)
    if expires_in is not None and expires_in > 0:
        body['ttl'] = '%ds' % expires_in
    if rate_limit_policy:
        body['rate_limit_policy'] = dict((k, v) for k, v in rate_limit_policy.items() if k != 'unit')
    key_id = ory.issue(**body)[0]['key_id']
    if expires_in is not None and expires_in <= 0:
        ory.set_expiry(key_id, expires_in)
    if status == 'KEY_STATUS_REVOKED':
        ory.revoke(key_id)
    ory.forget_calls()
    return key_id


def view(ory, key_id):
    return ory.issued_key(key_id)


def active_keys(ory, name=None):
    return ory.issued_keys(name)


def valid(ory, secret):
    return ory.verify(secret)['is_valid'] is True


def parse_stamp(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)


# ---------------------------------------------------------------- issue, idempotency, check mode


def test_issue_new_key_returns_secret_once(ory, run_main):
    result = run(ory, run_main, name='ci', actor_id='svc-ci', scopes=['read'], metadata={'team': 'a'}, ttl='720h',
                 ip_allowlist=['10.0.0.0/8'], rate_limit={'quota': 100, 'window': '1m'})
    assert result['changed'] is True
    assert valid(ory, result['secret'])
    key = result['api_key']
    assert key['name'] == 'ci' and key['actor_id'] == 'svc-ci' and key['scopes'] == ['read']
    assert key['rate_limit_policy'] == {'quota': 100, 'window': '60s', 'unit': 'requests'}
    assert key['ip_restriction'] == {'allowed_cidrs': ['10.0.0.0/8']}
    assert key['days_to_expiry'] in (29, 30)
    assert 'old_key_id' not in result
    (method, path, params, body, dummy), = writes(ory)
    assert (method, path) == ('POST', BASE)
    assert body['ttl'] == '720h' and body['rate_limit_policy'] == {'quota': '100', 'window': '60s', 'unit': 'requests'}
    assert str(uuid.UUID(body['request_id'])) == body['request_id']
    assert body['ip_restriction'] == {'allowed_cidrs': ['10.0.0.0/8']}


def test_second_run_is_idempotent_without_writes(ory, run_main):
    args = dict(name='ci', actor_id='svc-ci', scopes=['b', 'a'], metadata={'x': 1}, ip_allowlist=['10.1.2.3/8'],
                rate_limit={'quota': 5, 'window': '60s'}, ttl='30d', rotate_before='7d')
    first = run(ory, run_main, **args)
    before = len(ory.calls)
    second = run(ory, run_main, **args)
    assert second['changed'] is False
    assert 'secret' not in second and 'old_key_id' not in second
    assert second['api_key']['key_id'] == first['api_key']['key_id']
    assert all(c.method == 'GET' for c in ory.calls[before:])
    assert len(active_keys(ory)) == 1


def test_check_mode_issue_predicts_without_writes(ory, run_main):
    result = run(ory, run_main, check_mode=True, diff=True, name='ci', scopes=['read'], ttl='1h')
    assert result['changed'] is True
    assert 'secret' not in result
    assert result['api_key']['key_id'] is None and result['api_key']['name'] == 'ci'
    assert result['diff']['before'] == {} and result['diff']['after']['scopes'] == ['read']
    assert writes(ory) == [] and ory.issued_keys(active_only=False) == []


def test_check_mode_on_existing_key_reports_no_change(ory, run_main):
    seed(ory, name='ci', scopes=['read'])
    result = run(ory, run_main, check_mode=True, name='ci', scopes=['read'])
    assert result['changed'] is False and writes(ory) == []


# ---------------------------------------------------------------- matching


def test_match_by_key_id_renames_in_place(ory, run_main):
    key_id = seed(ory, name='old')
    result = run(ory, run_main, key_id=key_id, name='new')
    assert result['changed'] is True and result['api_key']['key_id'] == key_id and result['api_key']['name'] == 'new'
    (method, path, params, body, dummy), = writes(ory)
    assert method == 'PATCH' and path == '%s/%s' % (BASE, key_id)
    assert params == {'update_mask': 'name'} and body == {'name': 'new'}


def test_match_by_name_ignores_revoked_and_other_names(ory, run_main):
    seed(ory, name='ci', status='KEY_STATUS_REVOKED')
    seed(ory, name='other')
    wanted = seed(ory, name='ci')
    result = run(ory, run_main, name='ci')
    assert result['changed'] is False and result['api_key']['key_id'] == wanted
    lists = [c for c in calls(ory) if c[1] == BASE]
    assert 'filter' not in lists[0][2]       # a status-only filter is rejected by Talos: filter client-side


def test_match_by_name_and_actor_uses_server_filter(ory, run_main):
    seed(ory, name='ci', actor_id='someone-else')
    wanted = seed(ory, name='ci', actor_id='svc-q')
    result = run(ory, run_main, name='ci', actor_id='svc-q')
    assert result['changed'] is False and result['api_key']['key_id'] == wanted
    lists = [c for c in calls(ory) if c[1] == BASE]
    assert lists[0][2]['filter'] == 'actor_id="svc-q" AND status=KEY_STATUS_ACTIVE'


def test_duplicate_names_fail_with_both_ids(ory, run_main):
    one, two = seed(ory, name='dup'), seed(ory, name='dup')
    result = run(ory, run_main, name='dup', scopes=['x'])
    assert result['failed'] is True
    assert one in result['msg'] and two in result['msg']
    assert writes(ory) == []


def test_matching_key_on_second_page(ory, run_main):
    fillers = [ory.issue(name='filler-%d' % index)[0]['key_id'] for index in range(1000)]
    ory.revoke(fillers[0])                    # the quota counts active keys; the list shows revoked ones too
    wanted = seed(ory, name='needle')         # 1001 keys: two pages of the largest size
    result = run(ory, run_main, name='needle')
    assert result['changed'] is False and result['api_key']['key_id'] == wanted
    pages = [c for c in calls(ory) if c[1] == BASE]
    assert len(pages) == 2 and 'page_token' in pages[1][2] and pages[0][2]['page_size'] == '1000'


def test_unknown_key_id_fails(ory, run_main):
    result = run(ory, run_main, key_id=str(uuid.uuid4()), scopes=['a'])
    assert result['failed'] is True and 'key_id' in result['msg'] and writes(ory) == []


def test_present_on_revoked_key_id_fails(ory, run_main):
    key_id = seed(ory, name='gone', status='KEY_STATUS_REVOKED')
    result = run(ory, run_main, key_id=key_id)
    assert result['failed'] is True and 'revoked' in result['msg'] and writes(ory) == []


def test_name_or_key_id_required(ory, run_main):
    result = run(ory, run_main, scopes=['a'])
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
def test_mutable_change_is_one_patch_with_changed_paths(ory, run_main, args, mask, body):
    key_id = seed(ory, name='ci', actor_id='svc', scopes=['read'], metadata={'team': 'a'},
                  rate_limit_policy={'quota': '5', 'window': '60s', 'unit': 'requests'},
                  ip_restriction={'allowed_cidrs': ['10.0.0.0/8']})
    result = run(ory, run_main, diff=True, name='ci', actor_id='svc', **args)
    assert result['changed'] is True and result['api_key']['key_id'] == key_id
    assert 'secret' not in result
    (method, path, params, sent, dummy), = writes(ory)
    assert method == 'PATCH' and params == {'update_mask': mask} and sent == body
    assert result['diff']['before'] != result['diff']['after']
    again = run(ory, run_main, name='ci', actor_id='svc', **args)
    assert again['changed'] is False and len(writes(ory)) == 1


def test_equivalent_values_are_not_changes(ory, run_main):
    seed(ory, name='ci', scopes=['a', 'b'], ip_restriction={'allowed_cidrs': ['10.0.0.0/8']},
         rate_limit_policy={'quota': '60', 'window': '3600s', 'unit': 'requests'})
    result = run(ory, run_main, name='ci', scopes=['b', 'a'], ip_allowlist=['10.0.0.1/8'], rate_limit={'quota': 60, 'window': '1h'})
    assert result['changed'] is False and writes(ory) == []


def test_check_mode_patch_predicts_without_writes(ory, run_main):
    seed(ory, name='ci', scopes=['read'])
    result = run(ory, run_main, check_mode=True, name='ci', scopes=['write'])
    assert result['changed'] is True and result['api_key']['scopes'] == ['write'] and writes(ory) == []


# ---------------------------------------------------------------- immutable changes and recreate


@pytest.mark.parametrize('args, named', [(dict(actor_id='svc-b'), 'actor_id'), (dict(visibility='public'), 'visibility')])
def test_immutable_change_without_recreate_fails_naming_it(ory, run_main, args, named):
    key_id = seed(ory, name='ci', actor_id='svc-a')
    result = run(ory, run_main, key_id=key_id, **args)
    assert result['failed'] is True and named in result['msg'] and 'recreate: on_change' in result['msg']
    assert writes(ory) == []


def test_recreate_on_change_issues_then_revokes(ory, run_main):
    old = seed(ory, name='ci', actor_id='svc-a', scopes=['read'])
    result = run(ory, run_main, key_id=old, actor_id='svc-b', recreate='on_change', ttl='2h')
    assert result['changed'] is True and result['old_key_id'] == old and result['old_key_retired'] is True
    assert result['api_key']['actor_id'] == 'svc-b' and result['api_key']['scopes'] == ['read']
    assert valid(ory, result['secret'])
    assert [c[0] + ' ' + c[1].rsplit('/', 1)[-1] for c in writes(ory)] == ['POST issuedApiKeys', 'POST %s:revoke' % old]
    assert view(ory, old)['revocation_reason'] == 'REVOCATION_REASON_SUPERSEDED'


def test_recreate_with_retire_replaced_false_keeps_old_active(ory, run_main):
    old = seed(ory, name='ci', visibility='KEY_VISIBILITY_SECRET')
    result = run(ory, run_main, name='ci', visibility='public', recreate='on_change', retire_replaced=False)
    assert result['old_key_id'] == old and view(ory, old)['status'] == 'KEY_STATUS_ACTIVE'
    assert result['old_key_retired'] is False
    assert result['api_key']['visibility'] == 'KEY_VISIBILITY_PUBLIC'


def test_check_mode_recreate_has_no_writes(ory, run_main):
    old = seed(ory, name='ci', actor_id='svc-a')
    result = run(ory, run_main, check_mode=True, key_id=old, actor_id='svc-b', recreate='on_change')
    assert result['changed'] is True and result['old_key_id'] == old and 'secret' not in result
    assert writes(ory) == []


# ---------------------------------------------------------------- rotation


def test_rotate_always_uses_server_rotate(ory, run_main):
    old = seed(ory, name='ci', scopes=['read'], expires_in=3 * 86400)
    result = run(ory, run_main, name='ci', rotate='always', scopes=['write'])
    assert result['changed'] is True and result['old_key_id'] == old
    assert result['api_key']['key_id'] != old and result['api_key']['scopes'] == ['write']
    assert result['api_key']['expire_time'] == view(ory, result['api_key']['key_id'])['expire_time']
    assert valid(ory, result['secret'])
    (method, path, dummy, body, dummy2), = writes(ory)
    assert (method, path, body) == ('POST', '%s/%s:rotate' % (BASE, old), {'scopes': ['write']})
    assert view(ory, old)['status'] == 'KEY_STATUS_REVOKED'


def test_rotate_always_without_retiring_issues_successor(ory, run_main):
    old = seed(ory, name='ci', scopes=['read'], expires_in=3 * 86400)
    result = run(ory, run_main, name='ci', rotate='always', retire_replaced=False)
    assert result['old_key_id'] == old and view(ory, old)['status'] == 'KEY_STATUS_ACTIVE'
    assert valid(ory, result['secret']) and result['api_key']['scopes'] == ['read']
    new_expiry = parse_stamp(result['api_key']['expire_time'])
    assert abs((new_expiry - parse_stamp(view(ory, old)['expire_time'])).total_seconds()) < 5   # :rotate keeps expiry
    assert [c[0] for c in writes(ory)] == ['POST']


def test_rotate_before_issues_fresh_key_and_revokes_old(ory, run_main):
    old = seed(ory, name='ci', actor_id='svc', expires_in=2 * 86400)
    result = run(ory, run_main, name='ci', actor_id='svc', rotate_before='7d', ttl='30d')
    assert result['changed'] is True and result['old_key_id'] == old and valid(ory, result['secret'])
    assert result['api_key']['days_to_expiry'] in (29, 30)      # a fresh ttl, not the old expiry
    assert view(ory, old)['status'] == 'KEY_STATUS_REVOKED'
    assert view(ory, old)['revocation_reason'] == 'REVOCATION_REASON_SUPERSEDED'
    issue = [c for c in writes(ory) if c[1] == BASE][0]
    assert issue[3]['ttl'] == '30d' and issue[3]['actor_id'] == 'svc'
    again = run(ory, run_main, name='ci', actor_id='svc', rotate_before='7d', ttl='30d')
    assert again['changed'] is False


def test_rotate_before_with_retire_replaced_false(ory, run_main):
    old = seed(ory, name='ci', expires_in=86400)
    result = run(ory, run_main, name='ci', rotate_before='7d', retire_replaced=False)
    assert result['old_key_id'] == old and view(ory, old)['status'] == 'KEY_STATUS_ACTIVE'
    assert [c[1] for c in writes(ory)] == [BASE]
    assert 'ttl' not in writes(ory)[0][3]         # the project's default lifetime


def test_rotate_before_not_due_is_no_change(ory, run_main):
    seed(ory, name='ci', expires_in=30 * 86400)
    result = run(ory, run_main, name='ci', rotate_before='7d')
    assert result['changed'] is False and writes(ory) == []


def test_expired_key_is_replaced(ory, run_main):
    old = seed(ory, name='ci', scopes=['read'], expires_in=-3600)
    result = run(ory, run_main, name='ci')
    assert result['changed'] is True and result['old_key_id'] == old and valid(ory, result['secret'])
    assert result['api_key']['scopes'] == ['read']
    assert view(ory, old)['status'] == 'KEY_STATUS_REVOKED'


@pytest.mark.parametrize('args', [dict(rotate='always'), dict(rotate_before='7d')])
def test_check_mode_rotation_has_no_writes(ory, run_main, args):
    old = seed(ory, name='ci', expires_in=86400)
    result = run(ory, run_main, check_mode=True, name='ci', **args)
    assert result['changed'] is True and result['old_key_id'] == old and 'secret' not in result
    assert writes(ory) == []


# ---------------------------------------------------------------- secret_sink none


@pytest.mark.parametrize('seeded, args', [
    (None, dict()),
    (dict(expires_in=86400), dict(rotate_before='7d')),
    (dict(), dict(rotate='always')),
    (dict(actor_id='a'), dict(actor_id='b', recreate='on_change')),
])
def test_secret_sink_none_refused_before_any_write(ory, run_main, seeded, args, monkeypatch):
    monkeypatch.setenv('_ORY_NETWORK_SECRET_SINK', 'none')
    if seeded is not None:
        seed(ory, name='ci', **seeded)
    result = run(ory, run_main, name='ci', **args)
    assert result['failed'] is True and result['msg'] == LOST
    assert writes(ory) == []


def test_secret_sink_none_allows_changes_without_new_secret(ory, run_main, monkeypatch):
    monkeypatch.setenv('_ORY_NETWORK_SECRET_SINK', 'none')
    seed(ory, name='ci', scopes=['a'])
    result = run(ory, run_main, name='ci', scopes=['b'])
    assert result['changed'] is True and [c[0] for c in writes(ory)] == ['PATCH']


# ---------------------------------------------------------------- state=absent


def test_absent_revokes_with_reason(ory, run_main):
    key_id = seed(ory, name='ci', actor_id='svc')
    result = run(ory, run_main, diff=True, name='ci', actor_id='svc', state='absent', revoke_reason='key_compromise')
    assert result['changed'] is True and result['api_key']['status'] == 'KEY_STATUS_REVOKED'
    assert view(ory, key_id)['revocation_reason'] == 'REVOCATION_REASON_KEY_COMPROMISE'
    assert result['diff']['after']['status'] == 'KEY_STATUS_REVOKED'
    again = run(ory, run_main, name='ci', actor_id='svc', state='absent')
    assert again['changed'] is False and len(writes(ory)) == 1


def test_absent_by_key_id_already_revoked_is_no_change(ory, run_main):
    key_id = seed(ory, name='ci', status='KEY_STATUS_REVOKED')
    result = run(ory, run_main, key_id=key_id, state='absent')
    assert result['changed'] is False and result['api_key']['key_id'] == key_id and writes(ory) == []


@pytest.mark.parametrize('args', [dict(name='nothing'), dict(key_id='00000000-0000-4000-8000-000000000000')])
def test_absent_without_match_is_no_change(ory, run_main, args):
    result = run(ory, run_main, state='absent', **args)
    assert result['changed'] is False and result['api_key'] == {} and writes(ory) == []


def test_absent_check_mode(ory, run_main):
    seed(ory, name='ci')
    result = run(ory, run_main, check_mode=True, name='ci', state='absent')
    assert result['changed'] is True and result['api_key']['status'] == 'KEY_STATUS_REVOKED' and writes(ory) == []


def test_absent_privilege_withdrawn_with_description(ory, run_main):
    key_id = seed(ory, name='ci')
    result = run(ory, run_main, key_id=key_id, state='absent', revoke_reason='privilege_withdrawn', revoke_description='left the team')
    assert result['changed'] is True
    assert writes(ory)[0][3] == {'reason': 'REVOCATION_REASON_PRIVILEGE_WITHDRAWN', 'description': 'left the team'}
    assert result['api_key']['revocation_description'] == 'left the team'


def test_revoke_description_needs_privilege_withdrawn(ory, run_main):
    seed(ory, name='ci')
    result = run(ory, run_main, name='ci', state='absent', revoke_description='why')
    assert result['failed'] is True and 'privilege_withdrawn' in result['msg'] and writes(ory) == []


# ---------------------------------------------------------------- retries and lost responses


def test_rate_limited_issue_waits_and_creates_one_key(ory, run_main):
    ory.fault(fault='rate_limit', reset=7, endpoint=ISSUE)
    result = run(ory, run_main, name='ci')
    assert result['changed'] is True and valid(ory, result['secret'])
    assert len(active_keys(ory)) == 1 and ory.sleeps and ory.sleeps[0] >= 7


def test_unavailable_list_is_retried(ory, run_main):
    seed(ory, name='ci')
    ory.fault(fault='status', status=503, endpoint=LIST, times=2)
    result = run(ory, run_main, name='ci')
    assert result['changed'] is False and writes(ory) == []


def test_lost_issue_response_leaves_one_active_key_with_its_secret(ory, run_main):
    ory.fault(fault='drop_after_commit', endpoint=ISSUE)
    result = run(ory, run_main, name='ci', actor_id='svc')
    assert result['changed'] is True
    live = active_keys(ory, 'ci')
    assert len(live) == 1 and live[0]['key_id'] == result['api_key']['key_id']
    assert valid(ory, result['secret'])
    issues = [c for c in calls(ory) if c[0] == 'POST' and c[1] == BASE]
    assert issues[0][3]['request_id'] == issues[1][3]['request_id'] != issues[2][3]['request_id']
    orphan = [k for k in ory.issued_keys(active_only=False) if k['status'] == 'KEY_STATUS_REVOKED']
    assert len(orphan) == 1 and orphan[0]['revocation_reason'] == 'REVOCATION_REASON_SUPERSEDED'


def test_lost_revoke_response_counts_as_done(ory, run_main):
    key_id = seed(ory, name='ci')
    ory.fault(fault='drop_after_commit', endpoint=REVOKE)
    result = run(ory, run_main, name='ci', state='absent')
    assert result['changed'] is True and result['api_key']['status'] == 'KEY_STATUS_REVOKED'
    assert view(ory, key_id)['status'] == 'KEY_STATUS_REVOKED'


def test_lost_rotate_response_replaces_the_orphaned_successor(ory, run_main):
    old = seed(ory, name='ci', actor_id='svc', scopes=['read'], expires_in=5 * 86400)
    ory.fault(fault='drop_after_commit', endpoint=ROTATE)
    result = run(ory, run_main, name='ci', actor_id='svc', rotate='always')
    assert result['changed'] is True and result['old_key_id'] == old
    live = active_keys(ory, 'ci')
    assert len(live) == 1 and live[0]['key_id'] == result['api_key']['key_id'] and valid(ory, result['secret'])
    assert live[0]['scopes'] == ['read']
    assert result['api_key']['days_to_expiry'] in (4, 5)       # rotation keeps the old lifetime


def test_rotate_not_sent_twice_after_uncommitted_failure(ory, run_main):
    old = seed(ory, name='ci')
    ory.fault(fault='reset', endpoint=ROTATE)
    result = run(ory, run_main, name='ci', rotate='always')
    assert result['old_key_id'] == old and len(active_keys(ory)) == 1 and valid(ory, result['secret'])


def test_quota_exceeded_names_the_reason(ory, run_main):
    assert ory.call('PATCH', '/__emulator/projects/%s' % ory.project_slug, {'key_quota': 1})[0] == 200
    seed(ory, name='other')
    result = run(ory, run_main, name='ci')
    assert result['failed'] is True and 'API_KEY_QUOTA_EXCEEDED' in result['msg'] and result['status'] == 402


def test_workspace_key_as_project_key_is_one_sentence(ory, run_main):
    result = run(ory, run_main, name='ci', project_api_key='ory_wak_' + 'W' * 30)
    assert result['failed'] is True
    assert result['msg'].startswith('project_api_key holds a workspace API key')
    assert result['msg'].count('. ') == 0 and result['msg'].endswith('.')
    assert ory.calls == []


def test_invalid_options_fail_before_any_request(ory, run_main):
    for args in (dict(ttl='soon'), dict(ip_allowlist=['300.0.0.0/8']), dict(rate_limit={'quota': 5}), dict(rotate_before='x')):
        result = run(ory, run_main, name='ci', **args)
        assert result['failed'] is True
    assert ory.calls == []


def test_diff_never_contains_the_secret(ory, run_main):
    result = run(ory, run_main, diff=True, name='ci')
    assert result['secret'] not in str(result['diff'])


def test_failed_revoke_of_replaced_key_warns_and_keeps_the_secret(ory, run_main):
    old = seed(ory, name='ci', expires_in=3600)
    ory.fault(fault='status', status=500, endpoint=REVOKE, times=10)
    result = run(ory, run_main, name='ci', rotate_before='1d')
    assert 'failed' not in result and valid(ory, result['secret'])
    assert result['old_key_id'] == old and result['old_key_retired'] is False
    assert old in str(result['warnings']) and 'HTTP 500' in str(result['warnings'])
    assert view(ory, old)['status'] == 'KEY_STATUS_ACTIVE'


def test_expired_key_is_replaced_even_with_rotate_always(ory, run_main):
    old = seed(ory, name='ci', expires_in=-60)
    result = run(ory, run_main, name='ci', rotate='always', ttl='3600')
    assert result['old_key_id'] == old and valid(ory, result['secret'])
    assert result['api_key']['status'] == 'KEY_STATUS_ACTIVE'
    issue = [c for c in writes(ory) if c[1] == BASE][0]
    assert issue[3]['ttl'] == '3600s'
    assert not [c for c in writes(ory) if c[1].endswith(':rotate')]


def test_lost_rotate_response_with_rename_finds_the_successor(ory, run_main):
    old = seed(ory, name='before', actor_id='svc', expires_in=5 * 86400)
    ory.fault(fault='drop_after_commit', endpoint=ROTATE)
    result = run(ory, run_main, key_id=old, name='after', rotate='always')
    assert result['old_key_id'] == old and result['api_key']['name'] == 'after'
    live = active_keys(ory)
    assert len(live) == 1 and live[0]['key_id'] == result['api_key']['key_id'] and valid(ory, result['secret'])
