"""Unit tests of ory_project_api_key: main() against the emulator, in process."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.ory.network.plugins.modules import ory_project_api_key as module
from ansible_collections.ory.network.tests.unit.conftest import check_return_doc, in_days

DELETE = 'DELETE /projects/{project}/tokens/{token_id}'
CREATE = 'POST /projects/{project}/tokens'
LIST = 'GET /projects/{project}/tokens'


def args(ory, **extra):
    base = dict(ory.console_args(project_id=ory.project_id), name='ci')
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def run(ory, run_main, check=False, diff=False, **extra):
    return run_main(module, args(ory, **extra), check=check, diff=diff)


def ok(ory, run_main, check=False, diff=False, **extra):
    result, code = run(ory, run_main, check=check, diff=diff, **extra)
    assert code == 0, result.get('msg')
    assert not result.get('failed'), result.get('msg')
    check_return_doc(module, result)
    return result


def fail(ory, run_main, check=False, **extra):
    result, code = run(ory, run_main, check=check, **extra)
    assert code == 1 and result['failed'], result
    return result


def writes(ory):
    return [c.method for c in ory.writes()]


def days_until(value):
    stamp_ = datetime.datetime.strptime(value, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
    return (stamp_ - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400


def holds(key, secret):
    """The live key is the one whose secret the module returned (the list never shows a secret)."""
    return key['last_characters'] == secret[-4:]


# ---- state=present: create ----------------------------------------------------------------------------------------

def test_create_when_missing(ory, run_main):
    result = ok(ory, run_main, expires_in='90d')
    assert result['changed'] is True
    live = ory.project_keys('ci')
    assert len(live) == 1
    assert holds(live[0], result['value']) and result['value'].startswith('ory_pat_')
    key = result['api_key']
    assert key['id'] == live[0]['id'] and key['name'] == 'ci' and key['project_id'] == ory.project_id
    assert key['expired'] is False and key['days_to_expiry'] in (89, 90)
    assert 89.9 < days_until(key['expires_at']) <= 90
    assert 'old_key_id' not in result
    posts = [c for c in ory.calls if c.method == 'POST']
    assert len(posts) == 1 and posts[0].body['name'] == 'ci'


def test_create_without_expiry(ory, run_main):
    result = ok(ory, run_main)
    assert result['api_key']['expires_at'] is None and result['api_key']['days_to_expiry'] is None
    assert ory.writes()[0].body == {'name': 'ci'}


def test_create_with_slug(ory, run_main):
    result = ok(ory, run_main, project_id=ory.project_slug)
    assert result['changed'] and result['api_key']['project_id'] == ory.project_id
    assert ory.calls[0].path == '/projects/%s/tokens' % ory.project_slug


def test_create_check_mode_writes_nothing(ory, run_main):
    result = ok(ory, run_main, check=True, diff=True, expires_at='2031-02-03T04:05:06+00:00')
    assert result['changed'] is True
    assert ory.writes() == []
    assert ory.project_keys() == []
    assert 'value' not in result
    assert result['api_key']['id'] is None and result['api_key']['expires_at'] == '2031-02-03T04:05:06Z'
    assert result['diff'] == {'before': {}, 'after': {'name': 'ci', 'expires_at': '2031-02-03T04:05:06Z'}}


def test_create_diff_has_metadata_only(ory, run_main):
    result = ok(ory, run_main, diff=True, expires_at='2031-02-03T04:05:06Z')
    new_id = ory.project_keys()[0]['id']
    assert result['diff'] == {'before': {}, 'after': {'name': 'ci', 'expires_at': '2031-02-03T04:05:06Z', 'id': new_id}}


@pytest.mark.parametrize('check', [True, False])
def test_idempotent_second_run(ory, run_main, check):
    ok(ory, run_main, expires_at='2031-01-01T00:00:00Z')
    ory.forget_calls()
    result = ok(ory, run_main, check=check, expires_at='2031-01-01T00:00:00Z')
    assert result['changed'] is False
    assert 'value' not in result and 'old_key_id' not in result
    assert ory.writes() == []
    assert ory.methods() == [('GET', '/projects/%s/tokens' % ory.project_id)]


def test_idempotent_with_expires_in_does_not_compare(ory, run_main):
    ory.add_project_key('ci', expires_at=in_days(200))
    result = ok(ory, run_main, expires_in='90d')
    assert result['changed'] is False and ory.writes() == []


def test_expires_at_normalised_before_compare(ory, run_main):
    ory.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    result = ok(ory, run_main, expires_at='2031-01-01T01:00:00.500+01:00')
    assert result['changed'] is False and ory.writes() == []
    assert result['api_key']['expires_at'] == '2031-01-01T00:00:00Z'


# ---- matching -----------------------------------------------------------------------------------------------------

def test_match_by_id(ory, run_main):
    first = ory.add_project_key('ci')
    ory.add_project_key('ci')
    result = ok(ory, run_main, id=first['id'])
    assert result['changed'] is False and result['api_key']['id'] == first['id']


def test_match_by_unknown_id_fails(ory, run_main):
    ory.add_project_key('ci')
    result = fail(ory, run_main, id='5b0a2a1e-0000-4000-8000-000000000000')
    assert 'no API key with id 5b0a2a1e-0000-4000-8000-000000000000' in result['msg']
    assert ory.writes() == []


def test_duplicate_names_fail_with_ids(ory, run_main):
    one = ory.add_project_key('ci')
    two = ory.add_project_key('ci')
    result = fail(ory, run_main)
    assert one['id'] in result['msg'] and two['id'] in result['msg']
    assert 'matches 2 live keys' in result['msg']
    assert ory.writes() == []


def test_other_names_are_ignored(ory, run_main):
    ory.add_project_key('other')
    result = ok(ory, run_main)
    assert result['changed'] is True
    assert len(ory.project_keys()) == 2


# ---- expiry differences and recreate ------------------------------------------------------------------------------

def test_expiry_differs_recreate_never_fails_naming_both(ory, run_main):
    old = ory.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    result = fail(ory, run_main, expires_at='2032-06-01T00:00:00Z')
    assert '2031-01-01T00:00:00Z' in result['msg'] and '2032-06-01T00:00:00Z' in result['msg']
    assert 'recreate' in result['msg'] and old['id'] in result['msg']
    assert ory.writes() == []


def test_no_expiry_live_differs(ory, run_main):
    ory.add_project_key('ci')
    result = fail(ory, run_main, expires_at='2032-06-01T00:00:00Z')
    assert 'expires at never but expires_at is 2032-06-01T00:00:00Z' in result['msg']


@pytest.mark.parametrize('check', [False, True])
def test_expiry_differs_on_change_replaces(ory, run_main, check):
    old = ory.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    result = ok(ory, run_main, check=check, diff=True, expires_at='2032-06-01T00:00:00Z', recreate='on_change')
    assert result['changed'] is True
    assert result['old_key_id'] == old['id'] and result['old_key_retired'] is True
    assert result['diff']['before'] == {'name': 'ci', 'expires_at': '2031-01-01T00:00:00Z', 'id': old['id']}
    if check:
        assert ory.writes() == [] and 'value' not in result
        assert ory.project_keys()[0]['id'] == old['id']
        return
    live = ory.project_keys('ci')
    assert len(live) == 1 and live[0]['id'] != old['id']
    assert result['api_key']['id'] == live[0]['id'] and holds(live[0], result['value'])
    assert live[0]['expires_at'] == '2032-06-01T00:00:00Z'
    # create first, then delete the old key
    assert writes(ory) == ['POST', 'DELETE']
    assert ory.writes()[1].path.endswith(old['id'])
    assert result['diff']['after'] == {'name': 'ci', 'expires_at': '2032-06-01T00:00:00Z', 'id': live[0]['id']}


def test_recreate_always_replaces_every_run(ory, run_main):
    old = ory.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    first = ok(ory, run_main, expires_at='2031-01-01T00:00:00Z', recreate='always')
    assert first['changed'] and first['old_key_id'] == old['id']
    second = ok(ory, run_main, expires_at='2031-01-01T00:00:00Z', recreate='always')
    assert second['changed'] and second['old_key_id'] == first['api_key']['id']
    assert [k['id'] for k in ory.project_keys()] == [second['api_key']['id']]


def test_recreate_on_change_without_difference_is_idempotent(ory, run_main):
    ory.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    result = ok(ory, run_main, expires_at='2031-01-01T00:00:00Z', recreate='on_change')
    assert result['changed'] is False and ory.writes() == []


def test_name_differs_for_id_match(ory, run_main):
    old = ory.add_project_key('legacy')
    result = fail(ory, run_main, id=old['id'], name='ci')
    assert "is named 'legacy' but name is 'ci'" in result['msg']
    result = ok(ory, run_main, id=old['id'], name='ci', recreate='on_change')
    assert result['old_key_id'] == old['id'] and result['api_key']['name'] == 'ci'
    assert [k['name'] for k in ory.project_keys()] == ['ci']


# ---- rotation and expired keys ------------------------------------------------------------------------------------

def test_rotate_before_replaces_key_due(ory, run_main):
    old = ory.add_project_key('ci', expires_at=in_days(5))
    result = ok(ory, run_main, rotate_before='14d', expires_in='90d')
    assert result['changed'] and result['old_key_id'] == old['id']
    assert 89.9 < days_until(result['api_key']['expires_at']) <= 90


def test_rotate_before_keeps_key_not_due(ory, run_main):
    ory.add_project_key('ci', expires_at=in_days(30))
    result = ok(ory, run_main, rotate_before='14d', expires_in='90d')
    assert result['changed'] is False and ory.writes() == []


def test_rotate_before_ignores_key_without_expiry(ory, run_main):
    ory.add_project_key('ci')
    result = ok(ory, run_main, rotate_before='14d')
    assert result['changed'] is False


def test_expired_key_is_always_replaced_keeping_lifetime(ory, run_main):
    old = ory.add_project_key('ci', created_at=in_days(-100), expires_at=in_days(-10))
    result = ok(ory, run_main)  # recreate=never, no rotate_before
    assert result['changed'] and result['old_key_id'] == old['id']
    assert 89.9 < days_until(result['api_key']['expires_at']) <= 90
    assert len(ory.project_keys()) == 1


def test_expired_key_listed_as_expired(ory, run_main):
    ory.add_project_key('ci', created_at=in_days(-100), expires_at=in_days(-10))
    result = ok(ory, run_main, check=True)
    assert result['changed'] and result['old_key_id']


def test_new_expiry_within_rotate_before_is_refused(ory, run_main):
    result = fail(ory, run_main, rotate_before='30d', expires_in='7d')
    assert 'rotate_before' in result['msg'] and ory.writes() == []


def test_expires_at_in_the_past_is_refused(ory, run_main):
    result = fail(ory, run_main, expires_at='2020-01-01T00:00:00Z')
    assert 'expires_at' in result['msg'] and 'past' in result['msg']
    assert ory.writes() == []


# ---- secrets ------------------------------------------------------------------------------------------------------

REFUSAL = 'the new secret would be lost; register the result, set vault_dest and vault_var, or set reveal_secret: true'


@pytest.mark.parametrize('check', [False, True])
def test_secret_sink_none_refuses_create_before_any_write(ory, run_main, check, monkeypatch):
    monkeypatch.setenv('_ORY_NETWORK_SECRET_SINK', 'none')
    result = fail(ory, run_main, check=check)
    assert REFUSAL in result['msg']
    assert ory.writes() == [] and ory.project_keys() == []


def test_secret_sink_none_refuses_replacement(ory, run_main, monkeypatch):
    monkeypatch.setenv('_ORY_NETWORK_SECRET_SINK', 'none')
    ory.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    result = fail(ory, run_main, expires_at='2032-01-01T00:00:00Z', recreate='on_change')
    assert REFUSAL in result['msg'] and ory.writes() == []


def test_secret_sink_none_is_fine_when_nothing_is_created(ory, run_main, monkeypatch):
    monkeypatch.setenv('_ORY_NETWORK_SECRET_SINK', 'none')
    ory.add_project_key('ci')
    result = ok(ory, run_main)
    assert result['changed'] is False


def test_retire_replaced_false_keeps_old_key(ory, run_main):
    old = ory.add_project_key('ci', expires_at=in_days(2))
    result = ok(ory, run_main, rotate_before='7d', expires_in='30d', retire_replaced=False)
    assert result['old_key_id'] == old['id'] and result['old_key_retired'] is False
    assert writes(ory) == ['POST']
    assert {k['id'] for k in ory.project_keys()} == {old['id'], result['api_key']['id']}
    # the action plugin deletes the old key by id once the secret is stored
    gone = ok(ory, run_main, id=old['id'], state='absent')
    assert gone['changed'] and [k['id'] for k in ory.project_keys()] == [result['api_key']['id']]


def test_old_key_delete_failure_keeps_new_secret(ory, run_main):
    old = ory.add_project_key('ci', expires_at=in_days(2))
    ory.fault(fault='status', status=500, endpoint=DELETE, times=10)
    result = ok(ory, run_main, rotate_before='7d', expires_in='30d')
    assert result['value'].startswith('ory_pat_') and result['old_key_retired'] is False
    warning = str(result['warnings'][0])
    assert old['id'] in warning and 'HTTP 500' in warning


# ---- state=absent -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('by', ['name', 'id'])
def test_absent_deletes(ory, run_main, by):
    key = ory.add_project_key('ci')
    ory.add_project_key('other')
    extra = dict(state='absent') if by == 'name' else dict(state='absent', name=None, id=key['id'])
    result = ok(ory, run_main, diff=True, **extra)
    assert result['changed'] is True and result['api_key']['id'] == key['id']
    assert [k['name'] for k in ory.project_keys()] == ['other']
    assert result['diff'] == {'before': {'name': 'ci', 'expires_at': None, 'id': key['id']}, 'after': {}}
    assert 'value' not in result
    again = ok(ory, run_main, **extra)
    assert again['changed'] is False and 'api_key' not in again


def test_absent_check_mode(ory, run_main):
    ory.add_project_key('ci')
    result = ok(ory, run_main, check=True, state='absent')
    assert result['changed'] is True and ory.writes() == []
    assert len(ory.project_keys()) == 1


def test_absent_when_missing(ory, run_main):
    for check in (True, False):
        result = ok(ory, run_main, check=check, state='absent')
        assert result['changed'] is False
    assert ory.writes() == []


def test_absent_duplicate_fails_with_ids(ory, run_main):
    one = ory.add_project_key('ci')
    two = ory.add_project_key('ci')
    result = fail(ory, run_main, state='absent')
    assert one['id'] in result['msg'] and two['id'] in result['msg'] and ory.writes() == []
    result = ok(ory, run_main, state='absent', id=two['id'])
    assert [k['id'] for k in ory.project_keys()] == [one['id']]


def test_absent_lost_delete_response_counts_as_done(ory, run_main):
    ory.add_project_key('ci')
    ory.fault(fault='drop_after_commit', endpoint=DELETE)
    result = ok(ory, run_main, state='absent')
    assert result['changed'] is True and ory.project_keys() == []
    assert writes(ory) == ['DELETE', 'DELETE']


def test_absent_unknown_key_404_first_try_fails(ory, run_main):
    key = ory.add_project_key('ci')
    # another run deletes the key between our list and our delete: a plain 404, not after an ambiguous failure
    ory.before(DELETE, lambda: ory.call('DELETE', '/projects/%s/tokens/%s' % (ory.project_id, key['id']), token=ory.workspace_api_key))
    result = fail(ory, run_main, state='absent', id=key['id'])
    assert 'HTTP 404' in result['msg'] and result['status'] == 404 and result['request_id']


# ---- retries and faults -------------------------------------------------------------------------------------------

def test_rate_limited_list_then_success(ory, run_main):
    ory.fault(fault='rate_limit', reset=7, endpoint=LIST)
    result = ok(ory, run_main)
    assert result['changed'] is True
    assert ory.sleeps and ory.sleeps[0] >= 7
    assert len(ory.project_keys()) == 1


def test_rate_limited_create_is_sent_again(ory, run_main):
    ory.fault(fault='rate_limit', reset=1, endpoint=CREATE)
    result = ok(ory, run_main)
    assert [c.method for c in ory.calls] == ['GET', 'POST', 'POST']
    assert holds(ory.project_keys()[0], result['value'])


def test_unavailable_list_then_success(ory, run_main):
    ory.add_project_key('ci')
    ory.fault(fault='status', status=503, endpoint=LIST)
    result = ok(ory, run_main)
    assert result['changed'] is False and ory.writes() == []
    assert [c.method for c in ory.calls] == ['GET', 'GET']


def test_lost_create_response_leaves_exactly_one_key(ory, run_main):
    ory.add_project_key('other')
    ory.fault(fault='drop_after_commit', endpoint=CREATE)
    result = ok(ory, run_main, expires_in='30d')
    live = ory.project_keys('ci')
    assert len(live) == 1
    assert holds(live[0], result['value']) and result['api_key']['id'] == live[0]['id']
    # the orphan whose secret was lost is deleted before the create is sent again
    assert [c.method for c in ory.calls] == ['GET', 'POST', 'GET', 'DELETE', 'POST']
    assert len(ory.project_keys()) == 2


def test_lost_create_response_not_committed(ory, run_main):
    ory.fault(fault='reset', endpoint=CREATE)
    result = ok(ory, run_main)
    assert [c.method for c in ory.calls] == ['GET', 'POST', 'GET', 'POST']
    assert holds(ory.project_keys('ci')[0], result['value'])


def test_lost_create_during_replacement_keeps_old_key_until_done(ory, run_main):
    old = ory.add_project_key('ci', expires_at=in_days(1))
    ory.fault(fault='drop_after_commit', endpoint=CREATE)
    result = ok(ory, run_main, rotate_before='7d', expires_in='30d')
    live = ory.project_keys('ci')
    assert len(live) == 1 and live[0]['id'] == result['api_key']['id'] != old['id']
    assert holds(live[0], result['value'])


# ---- errors -------------------------------------------------------------------------------------------------------

def test_unknown_project(ory, run_main):
    result = fail(ory, run_main, project_id='nope')
    assert 'HTTP 404' in result['msg'] and '/projects/nope/tokens' in result['msg']


def test_project_key_as_workspace_key_names_the_option(ory, run_main):
    result = fail(ory, run_main, workspace_api_key=ory.project_api_key)
    assert result['msg'] == 'workspace_api_key holds a project API key, but this call needs a workspace API key (ory_wak_...).'
    assert ory.calls == []


def test_missing_workspace_key(ory, run_main, monkeypatch):
    monkeypatch.delenv('ORY_WORKSPACE_API_KEY', raising=False)
    result = fail(ory, run_main, workspace_api_key=None)
    assert result['msg'].startswith('workspace_api_key is required')


def test_missing_project_id(ory, run_main, monkeypatch):
    monkeypatch.delenv('ORY_PROJECT_ID', raising=False)
    result = fail(ory, run_main, project_id=None)
    assert 'project_id' in result['msg']


def test_project_id_from_environment(ory, run_main, monkeypatch):
    monkeypatch.setenv('ORY_PROJECT_ID', ory.project_id)
    result = ok(ory, run_main, project_id=None)
    assert result['changed'] and result['api_key']['project_id'] == ory.project_id


@pytest.mark.parametrize('extra, word', [
    (dict(expires_at='next tuesday'), 'expires_at'),
    (dict(expires_in='soon'), 'expires_in'),
    (dict(rotate_before='1 month'), 'rotate_before'),
    (dict(expires_at='2031-01-01T00:00:00Z', expires_in='9d'), 'mutually exclusive'),
    (dict(name=None), 'name'),
])
def test_bad_options(ory, run_main, extra, word):
    result = fail(ory, run_main, **extra)
    assert word in result['msg'] and ory.calls == []


def test_credentials_never_sent_in_output(ory, run_main):
    result = ok(ory, run_main)
    assert ory.workspace_api_key not in str(result)
    assert result['invocation']['module_args']['workspace_api_key'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


# ---- the matrix: expiry same/different x recreate x check mode ---------------------------------------------------

@pytest.mark.parametrize('check', [False, True])
@pytest.mark.parametrize('recreate', ['never', 'on_change', 'always'])
@pytest.mark.parametrize('same', [True, False])
def test_expiry_recreate_matrix(ory, run_main, same, recreate, check):
    old = ory.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    wanted = '2031-01-01T00:00:00Z' if same else '2032-01-01T00:00:00Z'
    result, code = run(ory, run_main, check=check, expires_at=wanted, recreate=recreate)
    replaced = recreate == 'always' or (not same and recreate == 'on_change')
    if not same and recreate == 'never':
        assert code == 1 and '2031-01-01T00:00:00Z' in result['msg'] and '2032-01-01T00:00:00Z' in result['msg']
    else:
        assert code == 0, result.get('msg')
        check_return_doc(module, result)
        assert result['changed'] is replaced
        assert (result.get('old_key_id') == old['id']) is replaced
        assert ('value' in result) is (replaced and not check)
        assert result['api_key']['expires_at'] == wanted
    if check or not replaced:
        assert ory.writes() == []
        assert [k['id'] for k in ory.project_keys()] == [old['id']]
    else:
        live = ory.project_keys()
        assert len(live) == 1 and live[0]['id'] != old['id'] and live[0]['expires_at'] == wanted


def test_return_doc_check_catches_undocumented_keys():
    with pytest.raises(AssertionError, match='undocumented'):
        check_return_doc(module, {'changed': True, 'api_key': {'id': 'x', 'surprise': 1}})
    with pytest.raises(AssertionError, match='returned always'):
        check_return_doc(module, {'changed': True, 'api_key': {'id': 'x'}})
    with pytest.raises(AssertionError, match='undocumented'):
        check_return_doc(module, {'changed': True, 'secret': 'x'})


def test_lost_create_responses_until_retries_run_out_leave_no_orphan(ory, run_main):
    ory.fault(fault='drop_after_commit', endpoint=CREATE, times=2)
    result = fail(ory, run_main, retries=1)
    assert 'POST /projects/%s/tokens failed' % ory.project_id in result['msg']
    assert 'broke before a response arrived' in result['msg']
    assert ory.project_keys('ci') == []
    assert [c.method for c in ory.calls] == ['GET', 'POST', 'GET', 'DELETE', 'POST', 'GET', 'DELETE']
