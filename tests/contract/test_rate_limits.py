# Project rate limits (contract §1.4): buckets per endpoint, plan thresholds, x-ratelimit-* headers on every response of a
# limited bucket, 429 with an empty body and no Retry-After, refill on the emulator's clock, off by default.
from __future__ import annotations

import re

import pytest

from .helpers import ISSUE, VERIFY

LIMIT_RE = re.compile(r'^\d+(, \d+;w=[0-9.]+)+$')
DEVELOP = {'plan': 'develop'}


def limits(resp):
    return {name: resp.headers.get(name) for name in ('x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset')}


def assert_throttled(resp):
    assert resp.status_code == 429, resp.text
    assert resp.content == b'' and resp.headers['Content-Length'] == '0'
    assert 'Retry-After' not in resp.headers
    assert resp.headers['x-ratelimit-remaining'] == '0'
    assert int(resp.headers['x-ratelimit-reset']) >= 0
    assert LIMIT_RE.match(resp.headers['x-ratelimit-limit'])


@pytest.fixture(name='develop')
def fixture_develop(make_emu):
    return make_emu(config={'projects': [{'slug': 'dev', 'rate_limits': DEVELOP}]})


def test_off_by_default(fresh):
    for index in range(8):
        resp = fresh.talos('POST', ISSUE, json={'name': 'free-%d' % index})
        assert resp.status_code == 201
        assert limits(resp) == dict.fromkeys(limits(resp))
    assert fresh.admin('GET', '/projects/emulated-project').json()['rate_limits'] is None
    assert 'throttled' not in fresh.admin('GET', '/stats').json()


def test_develop_plan_burst_then_429(develop):
    for index in range(5):
        resp = develop.talos('POST', ISSUE, json={'name': 'k%d' % index})
        assert resp.status_code == 201
        assert resp.headers['x-ratelimit-limit'] == '5, 5;w=1, 15;w=60'
        assert resp.headers['x-ratelimit-remaining'] == str(4 - index)
        assert int(resp.headers['x-ratelimit-reset']) == 0, 'the binding bucket is the per-second one: sub-second reset'
    throttled = develop.talos('POST', ISSUE, json={'name': 'too-many'})
    assert_throttled(throttled)
    assert throttled.headers['x-ratelimit-limit'] == '5, 5;w=1, 15;w=60'
    assert len(develop.talos('GET', ISSUE).json()['issued_api_keys']) == 5, 'the throttled issue created nothing'
    assert develop.admin('GET', '/stats').json()['throttled'] == {'POST /v2alpha1/admin/issuedApiKeys': 1}


def test_sustained_limit_and_reset_on_the_emulator_clock(develop):
    issued = 0
    for dummy in range(3):
        for dummy in range(5):
            assert develop.talos('POST', ISSUE, json={'name': 'k%d' % issued}).status_code == 201
            issued += 1
        develop.advance(1)
    throttled = develop.talos('POST', ISSUE, json={'name': 'k16'})
    assert_throttled(throttled)
    # 15 per minute: one token every 4 s; 3 s have passed since the first request, so less than 4 s are left
    assert 0 <= int(throttled.headers['x-ratelimit-reset']) <= 3
    develop.advance(int(throttled.headers['x-ratelimit-reset']) + 1)
    resp = develop.talos('POST', ISSUE, json={'name': 'k16'})
    assert resp.status_code == 201 and resp.headers['x-ratelimit-remaining'] == '0'
    assert int(resp.headers['x-ratelimit-reset']) >= 1, 'a per-minute bucket reports whole seconds to wait'
    develop.advance(60)
    assert develop.talos('POST', ISSUE, json={'name': 'k17'}).headers['x-ratelimit-remaining'] == '4'


def test_writes_share_one_bucket_and_reads_are_separate(develop):
    key_id = develop.issue(name='shared')['issued_api_key']['key_id']
    for dummy in range(4):
        develop.issue(name='filler')
    assert_throttled(develop.talos('PATCH', ISSUE + '/' + key_id, params={'update_mask': 'name'}, json={'name': 'renamed'}))
    assert_throttled(develop.talos('POST', '%s/%s:rotate' % (ISSUE, key_id), json={}))
    assert_throttled(develop.talos('POST', '%s/%s:revoke' % (ISSUE, key_id), json={'reason': 'REVOCATION_REASON_SUPERSEDED'}))
    key = develop.get_key(key_id)
    assert key['name'] == 'shared' and key['status'] == 'KEY_STATUS_ACTIVE', 'throttled writes changed nothing'
    # the develop plan gives thresholds for talos-admin-low only: reads and verify are not limited
    resp = develop.talos('GET', ISSUE + '/' + key_id)
    assert resp.status_code == 200 and resp.headers.get('x-ratelimit-limit') is None


def test_configured_buckets_for_reads_verify_and_console(make_emu):
    emulator = make_emu(config={'projects': [{'slug': 'p', 'rate_limits': {'buckets': {
        'talos-admin-medium': {'per_second': 2}, 'talos-admin-high': {'per_minute': 3}, 'backoffice-admin-low': {'per_second': 1}}}}]})
    body = emulator.issue(name='v')
    assert body and 'x-ratelimit-limit' not in emulator.talos('POST', ISSUE, json={'name': 'w'}).headers
    first = emulator.talos('GET', ISSUE)
    assert first.headers['x-ratelimit-limit'] == '2, 2;w=1' and first.headers['x-ratelimit-remaining'] == '1'
    assert emulator.talos('GET', ISSUE + '/' + body['issued_api_key']['key_id']).headers['x-ratelimit-remaining'] == '0'
    assert_throttled(emulator.talos('GET', ISSUE))
    for remaining in ('2', '1', '0'):
        resp = emulator.talos('POST', VERIFY, json={'credential': body['secret']})
        assert resp.status_code == 200 and resp.headers['x-ratelimit-remaining'] == remaining
        assert resp.headers['x-ratelimit-limit'] == '3, 3;w=60'
    throttled = emulator.talos('POST', VERIFY, json={'credential': body['secret']})
    assert_throttled(throttled)
    assert 1 <= int(throttled.headers['x-ratelimit-reset']) <= 20, 'one verify token every 20 s'
    # console token calls of the project: backoffice-admin-low, by project id or slug alike
    tokens = '/projects/%s/tokens'
    assert emulator.console('GET', tokens % emulator.info['project_id']).headers['x-ratelimit-remaining'] == '0'
    assert_throttled(emulator.console('GET', tokens % 'p'))
    assert emulator.console('GET', '/workspaces/%s/tokens' % emulator.info['workspace_id']).headers.get('x-ratelimit-limit') is None


def test_unauthenticated_requests_count_and_carry_the_headers(develop):
    resp = develop.talos('POST', ISSUE, key='ory_pat_not-a-valid-key-at-all', json={'name': 'x'})
    assert resp.status_code == 401
    assert resp.headers['x-ratelimit-remaining'] == '4', 'the edge throttles before authentication'


def test_time_scale_and_admin_knob(fresh):
    assert fresh.talos('POST', ISSUE, json={'name': 'a'}).headers.get('x-ratelimit-limit') is None
    settings = fresh.set_project(rate_limits={'plan': 'develop', 'time_scale': 10})
    assert settings['rate_limits'] == {'plan': 'develop', 'time_scale': 10,
                                       'buckets': {'talos-admin-low': {'per_second': 5, 'per_minute': 15}}}
    resp = fresh.talos('POST', ISSUE, json={'name': 'b'})
    assert resp.headers['x-ratelimit-limit'] == '5, 5;w=0.1, 15;w=6'
    enterprise = fresh.set_project(rate_limits={'plan': 'enterprise'})['rate_limits']
    assert enterprise['buckets']['talos-admin-low'] == {'per_second': 9, 'per_minute': 200}
    assert fresh.talos('POST', ISSUE, json={'name': 'c'}).headers['x-ratelimit-limit'] == '9, 9;w=1, 200;w=60'
    assert fresh.set_project(rate_limits=None)['rate_limits'] is None
    assert fresh.talos('POST', ISSUE, json={'name': 'd'}).headers.get('x-ratelimit-limit') is None
    for bad in ({'plan': 'free'}, {'time_scale': 0}, {'time_scale': 'fast'}, {'buckets': {'kratos-public-low': {'per_second': 1}}},
                {'buckets': {'talos-admin-low': {'per_hour': 1}}}, {'buckets': {'talos-admin-low': {'per_second': 0}}}, {'plans': 'x'}, 'on'):
        resp = fresh.admin('PATCH', '/projects/emulated-project', json={'rate_limits': bad})
        assert resp.status_code == 400, bad


def test_bad_rate_limits_in_config_stop_the_start(tmp_path):
    from .helpers import Emulator  # pylint: disable=import-outside-toplevel
    emulator = Emulator(tmp_path, config={'projects': [{'slug': 'x', 'rate_limits': {'plan': 'free'}}]})
    with pytest.raises(RuntimeError):
        emulator.start()
    assert 'rate_limits.plan' in emulator.stderr()
