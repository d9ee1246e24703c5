"""Unit tests of ory_project_api_key: main() over the fake transport and the in-memory console."""
from __future__ import annotations

import datetime

import pytest
import requests

from ansible_collections.ory.network.plugins.modules import ory_project_api_key as module
from ansible_collections.ory.network.tests.unit.fake_transport import FakeResponse, install
from ansible_collections.ory.network.tests.unit.plugins.modules.console_fake import ConsoleFake, check_return_doc, run_main, stamp

URL = 'https://console.test'
TOKENS = r'/projects/[^/]+/tokens'
TOKEN = r'/projects/[^/]+/tokens/[^/]+'


@pytest.fixture
def console(monkeypatch):
    fake = ConsoleFake()
    fake.http = install(monkeypatch, fake.api())
    return fake


def args(console, **extra):
    base = dict(workspace_api_key=console.workspace_api_key, console_api_url=URL, project_id=console.project_id, name='ci')
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def run(console, capsys, check=False, diff=False, **extra):
    return run_main(module, args(console, **extra), capsys, check=check, diff=diff)


def ok(console, capsys, check=False, diff=False, **extra):
    result, code = run(console, capsys, check=check, diff=diff, **extra)
    assert code == 0, result.get('msg')
    assert not result.get('failed'), result.get('msg')
    check_return_doc(module, result)
    return result


def fail(console, capsys, check=False, **extra):
    result, code = run(console, capsys, check=check, **extra)
    assert code == 1 and result['failed'], result
    return result


def methods(api):
    return [(c[0], c[1]) for c in api.calls]


def in_days(value):
    stamp_ = datetime.datetime.strptime(value, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
    return (stamp_ - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400


# ---- state=present: create ----------------------------------------------------------------------------------------

def test_create_when_missing(console, capsys):
    result = ok(console, capsys, expires_in='90d')
    assert result['changed'] is True
    live = console.live_project_keys('ci')
    assert len(live) == 1
    assert result['value'] == live[0]['value'] and result['value'].startswith('ory_pat_')
    key = result['api_key']
    assert key['id'] == live[0]['id'] and key['name'] == 'ci' and key['project_id'] == console.project_id
    assert key['expired'] is False and key['days_to_expiry'] in (89, 90)
    assert 89.9 < in_days(key['expires_at']) <= 90
    assert 'old_key_id' not in result
    posts = [c for c in console.http.calls if c[0] == 'POST']
    assert len(posts) == 1 and posts[0][3]['name'] == 'ci'


def test_create_without_expiry(console, capsys):
    result = ok(console, capsys)
    assert result['api_key']['expires_at'] is None and result['api_key']['days_to_expiry'] is None
    assert console.http.writes()[0][3] == {'name': 'ci'}


def test_create_with_slug(console, capsys):
    result = ok(console, capsys, project_id=console.project_slug)
    assert result['changed'] and result['api_key']['project_id'] == console.project_id
    assert console.http.calls[0][1] == '/projects/%s/tokens' % console.project_slug


def test_create_check_mode_writes_nothing(console, capsys):
    result = ok(console, capsys, check=True, diff=True, expires_at='2031-02-03T04:05:06+00:00')
    assert result['changed'] is True
    assert console.http.writes() == []
    assert console.live_project_keys() == []
    assert 'value' not in result
    assert result['api_key']['id'] is None and result['api_key']['expires_at'] == '2031-02-03T04:05:06Z'
    assert result['diff'] == {'before': {}, 'after': {'name': 'ci', 'expires_at': '2031-02-03T04:05:06Z'}}


def test_create_diff_has_metadata_only(console, capsys):
    result = ok(console, capsys, diff=True, expires_at='2031-02-03T04:05:06Z')
    new_id = console.live_project_keys()[0]['id']
    assert result['diff'] == {'before': {}, 'after': {'name': 'ci', 'expires_at': '2031-02-03T04:05:06Z', 'id': new_id}}


@pytest.mark.parametrize('check', [True, False])
def test_idempotent_second_run(console, capsys, check):
    ok(console, capsys, expires_at='2031-01-01T00:00:00Z')
    console.http.calls.clear()
    result = ok(console, capsys, check=check, expires_at='2031-01-01T00:00:00Z')
    assert result['changed'] is False
    assert 'value' not in result and 'old_key_id' not in result
    assert console.http.writes() == []
    assert methods(console.http) == [('GET', '/projects/%s/tokens' % console.project_id)]


def test_idempotent_with_expires_in_does_not_compare(console, capsys):
    console.add_project_key('ci', expires_at=stamp(200))
    result = ok(console, capsys, expires_in='90d')
    assert result['changed'] is False and console.http.writes() == []


def test_expires_at_normalised_before_compare(console, capsys):
    console.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    result = ok(console, capsys, expires_at='2031-01-01T01:00:00.500+01:00')
    assert result['changed'] is False and console.http.writes() == []
    assert result['api_key']['expires_at'] == '2031-01-01T00:00:00Z'


# ---- matching -----------------------------------------------------------------------------------------------------

def test_match_by_id(console, capsys):
    first = console.add_project_key('ci')
    console.add_project_key('ci')
    result = ok(console, capsys, id=first['id'])
    assert result['changed'] is False and result['api_key']['id'] == first['id']


def test_match_by_unknown_id_fails(console, capsys):
    console.add_project_key('ci')
    result = fail(console, capsys, id='5b0a2a1e-0000-4000-8000-000000000000')
    assert 'no API key with id 5b0a2a1e-0000-4000-8000-000000000000' in result['msg']
    assert console.http.writes() == []


def test_duplicate_names_fail_with_ids(console, capsys):
    one = console.add_project_key('ci')
    two = console.add_project_key('ci')
    result = fail(console, capsys)
    assert one['id'] in result['msg'] and two['id'] in result['msg']
    assert 'matches 2 live keys' in result['msg']
    assert console.http.writes() == []


def test_other_names_are_ignored(console, capsys):
    console.add_project_key('other')
    result = ok(console, capsys)
    assert result['changed'] is True
    assert len(console.live_project_keys()) == 2


# ---- expiry differences and recreate ------------------------------------------------------------------------------

def test_expiry_differs_recreate_never_fails_naming_both(console, capsys):
    old = console.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    result = fail(console, capsys, expires_at='2032-06-01T00:00:00Z')
    assert '2031-01-01T00:00:00Z' in result['msg'] and '2032-06-01T00:00:00Z' in result['msg']
    assert 'recreate' in result['msg'] and old['id'] in result['msg']
    assert console.http.writes() == []


def test_no_expiry_live_differs(console, capsys):
    console.add_project_key('ci')
    result = fail(console, capsys, expires_at='2032-06-01T00:00:00Z')
    assert 'expires at never but expires_at is 2032-06-01T00:00:00Z' in result['msg']


@pytest.mark.parametrize('check', [False, True])
def test_expiry_differs_on_change_replaces(console, capsys, check):
    old = console.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    result = ok(console, capsys, check=check, diff=True, expires_at='2032-06-01T00:00:00Z', recreate='on_change')
    assert result['changed'] is True
    assert result['old_key_id'] == old['id'] and result['old_key_retired'] is True
    assert result['diff']['before'] == {'name': 'ci', 'expires_at': '2031-01-01T00:00:00Z', 'id': old['id']}
    if check:
        assert console.http.writes() == [] and 'value' not in result
        assert console.live_project_keys()[0]['id'] == old['id']
        return
    live = console.live_project_keys('ci')
    assert len(live) == 1 and live[0]['id'] != old['id']
    assert result['api_key']['id'] == live[0]['id'] and result['value'] == live[0]['value']
    assert live[0]['expires_at'] == '2032-06-01T00:00:00Z'
    # create first, then delete the old key
    assert [c[0] for c in console.http.writes()] == ['POST', 'DELETE']
    assert console.http.writes()[1][1].endswith(old['id'])
    assert result['diff']['after'] == {'name': 'ci', 'expires_at': '2032-06-01T00:00:00Z', 'id': live[0]['id']}


def test_recreate_always_replaces_every_run(console, capsys):
    old = console.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    first = ok(console, capsys, expires_at='2031-01-01T00:00:00Z', recreate='always')
    assert first['changed'] and first['old_key_id'] == old['id']
    second = ok(console, capsys, expires_at='2031-01-01T00:00:00Z', recreate='always')
    assert second['changed'] and second['old_key_id'] == first['api_key']['id']
    assert [k['id'] for k in console.live_project_keys()] == [second['api_key']['id']]


def test_recreate_on_change_without_difference_is_idempotent(console, capsys):
    console.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    result = ok(console, capsys, expires_at='2031-01-01T00:00:00Z', recreate='on_change')
    assert result['changed'] is False and console.http.writes() == []


def test_name_differs_for_id_match(console, capsys):
    old = console.add_project_key('legacy')
    result = fail(console, capsys, id=old['id'], name='ci')
    assert "is named 'legacy' but name is 'ci'" in result['msg']
    result = ok(console, capsys, id=old['id'], name='ci', recreate='on_change')
    assert result['old_key_id'] == old['id'] and result['api_key']['name'] == 'ci'
    assert [k['name'] for k in console.live_project_keys()] == ['ci']


# ---- rotation and expired keys ------------------------------------------------------------------------------------

def test_rotate_before_replaces_key_due(console, capsys):
    old = console.add_project_key('ci', expires_at=stamp(5))
    result = ok(console, capsys, rotate_before='14d', expires_in='90d')
    assert result['changed'] and result['old_key_id'] == old['id']
    assert 89.9 < in_days(result['api_key']['expires_at']) <= 90


def test_rotate_before_keeps_key_not_due(console, capsys):
    console.add_project_key('ci', expires_at=stamp(30))
    result = ok(console, capsys, rotate_before='14d', expires_in='90d')
    assert result['changed'] is False and console.http.writes() == []


def test_rotate_before_ignores_key_without_expiry(console, capsys):
    console.add_project_key('ci')
    result = ok(console, capsys, rotate_before='14d')
    assert result['changed'] is False


def test_expired_key_is_always_replaced_keeping_lifetime(console, capsys):
    old = console.add_project_key('ci', created_at=stamp(-100), expires_at=stamp(-10))
    result = ok(console, capsys)  # recreate=never, no rotate_before
    assert result['changed'] and result['old_key_id'] == old['id']
    assert 89.9 < in_days(result['api_key']['expires_at']) <= 90
    assert len(console.live_project_keys()) == 1


def test_expired_key_listed_as_expired(console, capsys):
    console.add_project_key('ci', created_at=stamp(-100), expires_at=stamp(-10))
    result = ok(console, capsys, check=True)
    assert result['changed'] and result['old_key_id']


def test_new_expiry_within_rotate_before_is_refused(console, capsys):
    result = fail(console, capsys, rotate_before='30d', expires_in='7d')
    assert 'rotate_before' in result['msg'] and console.http.writes() == []


def test_expires_at_in_the_past_is_refused(console, capsys):
    result = fail(console, capsys, expires_at='2020-01-01T00:00:00Z')
    assert 'expires_at' in result['msg'] and 'past' in result['msg']
    assert console.http.writes() == []


# ---- secrets ------------------------------------------------------------------------------------------------------

REFUSAL = 'the new secret would be lost; register the result, set vault_dest and vault_var, or set reveal_secret: true'


@pytest.mark.parametrize('check', [False, True])
def test_secret_sink_none_refuses_create_before_any_write(console, capsys, check):
    result = fail(console, capsys, check=check, secret_sink='none')
    assert REFUSAL in result['msg']
    assert console.http.writes() == [] and console.live_project_keys() == []


def test_secret_sink_none_refuses_replacement(console, capsys):
    console.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    result = fail(console, capsys, secret_sink='none', expires_at='2032-01-01T00:00:00Z', recreate='on_change')
    assert REFUSAL in result['msg'] and console.http.writes() == []


def test_secret_sink_none_is_fine_when_nothing_is_created(console, capsys):
    console.add_project_key('ci')
    result = ok(console, capsys, secret_sink='none')
    assert result['changed'] is False


def test_retire_replaced_false_keeps_old_key(console, capsys):
    old = console.add_project_key('ci', expires_at=stamp(2))
    result = ok(console, capsys, rotate_before='7d', expires_in='30d', retire_replaced=False)
    assert result['old_key_id'] == old['id'] and result['old_key_retired'] is False
    assert [c[0] for c in console.http.writes()] == ['POST']
    assert {k['id'] for k in console.live_project_keys()} == {old['id'], result['api_key']['id']}
    # the action plugin deletes the old key by id once the secret is stored
    gone = ok(console, capsys, id=old['id'], state='absent')
    assert gone['changed'] and [k['id'] for k in console.live_project_keys()] == [result['api_key']['id']]


def test_old_key_delete_failure_keeps_new_secret(console, capsys):
    old = console.add_project_key('ci', expires_at=stamp(2))
    boom = FakeResponse(500, {'error': {'code': 500, 'status': 'Internal Server Error', 'message': 'boom', 'request': 'r-1'}})
    console.http.fail_next('DELETE', TOKEN, boom, times=10)   # a 500 is retried: fail every retry
    result = ok(console, capsys, rotate_before='7d', expires_in='30d')
    assert result['value'].startswith('ory_pat_') and result['old_key_retired'] is False
    warning = str(result['warnings'][0])
    assert old['id'] in warning and 'HTTP 500' in warning


# ---- state=absent -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('by', ['name', 'id'])
def test_absent_deletes(console, capsys, by):
    key = console.add_project_key('ci')
    console.add_project_key('other')
    extra = dict(state='absent') if by == 'name' else dict(state='absent', name=None, id=key['id'])
    result = ok(console, capsys, diff=True, **extra)
    assert result['changed'] is True and result['api_key']['id'] == key['id']
    assert [k['name'] for k in console.live_project_keys()] == ['other']
    assert result['diff'] == {'before': {'name': 'ci', 'expires_at': None, 'id': key['id']}, 'after': {}}
    assert 'value' not in result
    again = ok(console, capsys, **extra)
    assert again['changed'] is False and 'api_key' not in again


def test_absent_check_mode(console, capsys):
    console.add_project_key('ci')
    result = ok(console, capsys, check=True, state='absent')
    assert result['changed'] is True and console.http.writes() == []
    assert len(console.live_project_keys()) == 1


def test_absent_when_missing(console, capsys):
    for check in (True, False):
        result = ok(console, capsys, check=check, state='absent')
        assert result['changed'] is False
    assert console.http.writes() == []


def test_absent_duplicate_fails_with_ids(console, capsys):
    one = console.add_project_key('ci')
    two = console.add_project_key('ci')
    result = fail(console, capsys, state='absent')
    assert one['id'] in result['msg'] and two['id'] in result['msg'] and console.http.writes() == []
    result = ok(console, capsys, state='absent', id=two['id'])
    assert [k['id'] for k in console.live_project_keys()] == [one['id']]


def test_absent_lost_delete_response_counts_as_done(console, capsys):
    console.add_project_key('ci')
    console.http.fail_next('DELETE', TOKEN, requests.exceptions.ConnectionError('Connection aborted.'), commit=True)
    result = ok(console, capsys, state='absent')
    assert result['changed'] is True and console.live_project_keys() == []
    assert [c[0] for c in console.http.writes()] == ['DELETE', 'DELETE']


def test_absent_unknown_key_404_first_try_fails(console, capsys):
    key = console.add_project_key('ci')
    # another run deleted the key between our list and our delete: a plain 404, not after an ambiguous failure
    console.http.fail_next('DELETE', TOKEN, FakeResponse(404, {'error': {
        'code': 404, 'status': 'Not Found', 'message': 'Unable to locate the API key', 'request': 'r-404'}}))
    result = fail(console, capsys, state='absent', id=key['id'])
    assert 'HTTP 404' in result['msg'] and result['status'] == 404 and result['request_id'] == 'r-404'


# ---- retries and faults -------------------------------------------------------------------------------------------

def test_rate_limited_list_then_success(console, capsys):
    console.http.fail_next('GET', TOKENS, FakeResponse(429, headers={'x-ratelimit-reset': '7', 'x-ratelimit-remaining': '0'}))
    result = ok(console, capsys)
    assert result['changed'] is True
    assert console.http.sleeps and console.http.sleeps[0] >= 7
    assert len(console.live_project_keys()) == 1


def test_rate_limited_create_is_sent_again(console, capsys):
    console.http.fail_next('POST', TOKENS, FakeResponse(429, headers={'x-ratelimit-reset': '1'}))
    result = ok(console, capsys)
    assert [c[0] for c in console.http.calls] == ['GET', 'POST', 'POST']
    assert result['value'] == console.live_project_keys()[0]['value']


def test_unavailable_list_then_success(console, capsys):
    console.add_project_key('ci')
    console.http.fail_next('GET', TOKENS, FakeResponse(503, {'error': {'code': 503, 'status': 'Service Unavailable', 'message': 'try later'}}))
    result = ok(console, capsys)
    assert result['changed'] is False and console.http.writes() == []
    assert [c[0] for c in console.http.calls] == ['GET', 'GET']


def test_lost_create_response_leaves_exactly_one_key(console, capsys):
    console.add_project_key('other')
    console.http.fail_next('POST', TOKENS, requests.exceptions.ConnectionError('Connection aborted.'), commit=True)
    result = ok(console, capsys, expires_in='30d')
    live = console.live_project_keys('ci')
    assert len(live) == 1
    assert result['value'] == live[0]['value'] and result['api_key']['id'] == live[0]['id']
    # the orphan whose secret was lost is deleted before the create is sent again
    assert [c[0] for c in console.http.calls] == ['GET', 'POST', 'GET', 'DELETE', 'POST']
    assert len(console.live_project_keys()) == 2


def test_lost_create_response_not_committed(console, capsys):
    console.http.fail_next('POST', TOKENS, requests.exceptions.ConnectionError('Connection aborted.'))
    result = ok(console, capsys)
    assert [c[0] for c in console.http.calls] == ['GET', 'POST', 'GET', 'POST']
    assert result['value'] == console.live_project_keys('ci')[0]['value']


def test_lost_create_during_replacement_keeps_old_key_until_done(console, capsys):
    old = console.add_project_key('ci', expires_at=stamp(1))
    console.http.fail_next('POST', TOKENS, requests.exceptions.ConnectionError('Connection aborted.'), commit=True)
    result = ok(console, capsys, rotate_before='7d', expires_in='30d')
    live = console.live_project_keys('ci')
    assert len(live) == 1 and live[0]['id'] == result['api_key']['id'] != old['id']
    assert result['value'] == live[0]['value']


# ---- errors -------------------------------------------------------------------------------------------------------

def test_console_error_envelope(console, capsys):
    console.http.fail_next('GET', TOKENS, FakeResponse(403, {'error': {
        'id': 'feature_not_available', 'code': 403, 'status': 'Forbidden',
        'reason': "This project's subscription plan does not include this feature.",
        'message': 'The requested action was forbidden', 'request': 'a1b2c3d4-req'}}))
    result = fail(console, capsys)
    assert 'HTTP 403' in result['msg'] and 'FEATURE_NOT_AVAILABLE' in result['msg']
    assert 'subscription plan' in result['msg'] and 'a1b2c3d4-req' in result['msg']
    assert result['status'] == 403 and result['reason'] == 'FEATURE_NOT_AVAILABLE' and result['request_id'] == 'a1b2c3d4-req'
    assert console.http.writes() == []


def test_unknown_project(console, capsys):
    result = fail(console, capsys, project_id='nope')
    assert 'HTTP 404' in result['msg'] and '/projects/nope/tokens' in result['msg']


def test_project_key_as_workspace_key_names_the_option(console, capsys):
    result = fail(console, capsys, workspace_api_key=console.project_api_key)
    assert result['msg'] == 'workspace_api_key holds a project API key, but this call needs a workspace API key (ory_wak_...).'
    assert console.http.calls == []


def test_missing_workspace_key(console, capsys, monkeypatch):
    monkeypatch.delenv('ORY_WORKSPACE_API_KEY', raising=False)
    result = fail(console, capsys, workspace_api_key=None)
    assert result['msg'].startswith('workspace_api_key is required')


def test_missing_project_id(console, capsys, monkeypatch):
    monkeypatch.delenv('ORY_PROJECT_ID', raising=False)
    result = fail(console, capsys, project_id=None)
    assert 'project_id' in result['msg']


def test_project_id_from_environment(console, capsys, monkeypatch):
    monkeypatch.setenv('ORY_PROJECT_ID', console.project_id)
    result = ok(console, capsys, project_id=None)
    assert result['changed'] and result['api_key']['project_id'] == console.project_id


@pytest.mark.parametrize('extra, word', [
    (dict(expires_at='next tuesday'), 'expires_at'),
    (dict(expires_in='soon'), 'expires_in'),
    (dict(rotate_before='1 month'), 'rotate_before'),
    (dict(expires_at='2031-01-01T00:00:00Z', expires_in='9d'), 'mutually exclusive'),
    (dict(name=None), 'name'),
])
def test_bad_options(console, capsys, extra, word):
    result = fail(console, capsys, **extra)
    assert word in result['msg'] and console.http.calls == []


def test_credentials_never_sent_in_output(console, capsys):
    result = ok(console, capsys)
    assert console.workspace_api_key not in str(result)
    assert result['invocation']['module_args']['workspace_api_key'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


# ---- the matrix: expiry same/different x recreate x check mode ---------------------------------------------------

@pytest.mark.parametrize('check', [False, True])
@pytest.mark.parametrize('recreate', ['never', 'on_change', 'always'])
@pytest.mark.parametrize('same', [True, False])
def test_expiry_recreate_matrix(console, capsys, same, recreate, check):
    old = console.add_project_key('ci', expires_at='2031-01-01T00:00:00Z')
    wanted = '2031-01-01T00:00:00Z' if same else '2032-01-01T00:00:00Z'
    result, code = run(console, capsys, check=check, expires_at=wanted, recreate=recreate)
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
        assert console.http.writes() == []
        assert [k['id'] for k in console.live_project_keys()] == [old['id']]
    else:
        live = console.live_project_keys()
        assert len(live) == 1 and live[0]['id'] != old['id'] and live[0]['expires_at'] == wanted


def test_return_doc_check_catches_undocumented_keys():
    with pytest.raises(AssertionError, match='undocumented'):
        check_return_doc(module, {'changed': True, 'api_key': {'id': 'x', 'surprise': 1}})
    with pytest.raises(AssertionError, match='returned always'):
        check_return_doc(module, {'changed': True, 'api_key': {'id': 'x'}})
    with pytest.raises(AssertionError, match='undocumented'):
        check_return_doc(module, {'changed': True, 'secret': 'x'})


def test_lost_create_responses_until_retries_run_out_leave_no_orphan(console, capsys):
    lost = requests.exceptions.ConnectionError('Connection aborted.')
    console.http.fail_next('POST', TOKENS, lost, times=2, commit=True)
    result = fail(console, capsys, retries=1)
    assert 'POST /projects/%s/tokens failed' % console.project_id in result['msg']
    assert 'broke before a response arrived' in result['msg']
    assert console.live_project_keys('ci') == []
    assert [c[0] for c in console.http.calls] == ['GET', 'POST', 'GET', 'DELETE', 'POST', 'GET', 'DELETE']
