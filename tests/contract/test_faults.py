# Fault injection: rate_limit (429, empty body, headers), status (5xx in the plane's envelope), reset, slow, drop_after_commit.
from __future__ import annotations

import time
import uuid

import pytest
import requests

from .helpers import ISSUE, VERIFY, assert_aip, assert_herodot

TALOS_ISSUE = 'POST /v2alpha1/admin/issuedApiKeys'


def test_rate_limit(fresh):
    rule = fresh.add_fault(fault='rate_limit', times=2, method='POST', endpoint='/v2alpha1/admin/issuedApiKeys', reset=3)
    assert rule['id']
    assert fresh.talos('GET', ISSUE).status_code == 200  # other endpoints are untouched
    for dummy in range(2):
        resp = fresh.talos('POST', ISSUE, json={'name': 'rl'})
        assert resp.status_code == 429
        assert resp.content == b''
        assert resp.headers['x-ratelimit-remaining'] == '0'
        assert resp.headers['x-ratelimit-reset'] == '3'
        assert int(resp.headers['x-ratelimit-limit']) >= 0
        assert resp.headers['Content-Length'] == '0'
    assert fresh.talos('POST', ISSUE, json={'name': 'rl'}).status_code == 201
    assert fresh.admin('GET', '/faults').json()['faults'] == []
    # nothing was created by the throttled calls
    assert len(fresh.talos('GET', ISSUE).json()['issued_api_keys']) == 1


def test_rate_limit_defaults_and_console(fresh):
    fresh.add_fault(fault='rate_limit', endpoint='/projects/{project}/tokens', method='GET')
    resp = fresh.console('GET', '/projects/%s/tokens' % fresh.info['project_id'])
    assert resp.status_code == 429 and resp.content == b''
    assert resp.headers['x-ratelimit-reset'] == '1'
    assert fresh.console('GET', '/projects/%s/tokens' % fresh.info['project_id']).status_code == 200


@pytest.mark.parametrize('status,grpc', [(500, 'INTERNAL'), (502, 'UNAVAILABLE'), (503, 'UNAVAILABLE'), (504, 'DEADLINE_EXCEEDED')])
def test_status_faults(fresh, status, grpc):
    fresh.add_fault(fault='status', status=status, endpoint=TALOS_ISSUE)  # "METHOD template" form
    err = assert_aip(fresh.talos('POST', ISSUE, json={'name': 's'}), status, grpc, fresh_reason(status))
    assert err['message']
    fresh.add_fault(fault='status', status=status, method='GET', endpoint='/workspaces/{workspace}/tokens')
    assert_herodot(fresh.console('GET', '/workspaces/%s/tokens' % fresh.info['workspace_id']), status)
    assert len(fresh.talos('GET', ISSUE).json()['issued_api_keys']) == 0


def fresh_reason(status):
    return {500: 'INTERNAL_SERVER_ERROR', 502: 'BAD_GATEWAY', 503: 'SERVICE_UNAVAILABLE', 504: 'GATEWAY_TIMEOUT'}[status]


def test_reset(fresh):
    fresh.add_fault(fault='reset', method='POST', endpoint='/v2alpha1/admin/issuedApiKeys')
    with pytest.raises(requests.exceptions.ConnectionError):
        fresh.talos('POST', ISSUE, json={'name': 'reset', 'actor_id': 'r'})
    assert fresh.talos('GET', ISSUE).json()['issued_api_keys'] == []
    assert fresh.issue(name='after-reset')['secret']


def test_slow(fresh):
    fresh.add_fault(fault='slow', delay=0.6, endpoint='/v2alpha1/admin/apiKeys:verify')
    start = time.monotonic()
    resp = fresh.talos('POST', VERIFY, json={'credential': 'x'})
    assert resp.status_code == 200
    assert time.monotonic() - start >= 0.55
    with pytest.raises(requests.exceptions.Timeout):
        fresh.add_fault(fault='slow', delay=1.5, endpoint='/v2alpha1/admin/apiKeys:verify')
        fresh.talos('POST', VERIFY, json={'credential': 'x'}, timeout=0.3)
    start = time.monotonic()
    assert fresh.talos('POST', VERIFY, json={'credential': 'x'}).status_code == 200
    assert time.monotonic() - start < 0.5


def test_drop_after_commit(fresh):
    fresh.add_fault(fault='drop_after_commit', method='POST', endpoint='/v2alpha1/admin/issuedApiKeys')
    request_id = str(uuid.uuid4())
    with pytest.raises(requests.exceptions.ConnectionError):
        fresh.talos('POST', ISSUE, json={'name': 'dropped', 'actor_id': 'd', 'request_id': request_id})
    listed = fresh.talos('GET', ISSUE).json()['issued_api_keys']
    assert [key['name'] for key in listed] == ['dropped']
    replay = fresh.issue(name='dropped', actor_id='d', request_id=request_id)
    assert 'secret' not in replay and replay['issued_api_key']['key_id'] == listed[0]['key_id']

    fresh.add_fault(fault='drop_after_commit', endpoint='POST /projects/{project}/tokens')
    with pytest.raises(requests.exceptions.ConnectionError):
        fresh.console('POST', '/projects/%s/tokens' % fresh.info['project_id'], json={'name': 'dropped-console'})
    names = [item['name'] for item in fresh.console('GET', '/projects/%s/tokens' % fresh.info['project_id']).json()]
    assert 'dropped-console' in names


def test_fault_rules_admin(fresh):
    first = fresh.add_fault(fault='status', status=503, times=3)
    second = fresh.add_fault(fault='slow', delay=0, method='get')
    assert first['times'] == 3 and second['method'] == 'GET'
    rules = fresh.admin('GET', '/faults').json()['faults']
    assert [rule['id'] for rule in rules] == [first['id'], second['id']]
    # an unfiltered rule hits any endpoint (admin excluded)
    assert fresh.talos('GET', ISSUE).status_code == 503
    assert fresh.admin('GET', '/health').status_code == 200
    assert fresh.admin('GET', '/faults').json()['faults'][0]['times'] == 2
    assert fresh.admin('DELETE', '/faults/' + first['id']).status_code == 200
    assert fresh.admin('DELETE', '/faults').status_code == 200
    assert fresh.admin('GET', '/faults').json()['faults'] == []
    for bad in ({'fault': 'explode'}, {'fault': 'status', 'status': 418}, {'fault': 'slow', 'delay': -1}, {'fault': 'reset', 'times': 0},
                {'fault': 'rate_limit', 'reset': 'soon'}, {}):
        resp = fresh.admin('POST', '/faults', json=bad)
        assert resp.status_code == 400, bad
        assert resp.json()['error']['message']


def test_faults_from_config(make_emu):
    emulator = make_emu(config={'faults': [{'fault': 'status', 'status': 502, 'times': 2, 'endpoint': TALOS_ISSUE}]})
    assert [rule['status'] for rule in emulator.admin('GET', '/faults').json()['faults']] == [502]
    assert emulator.talos('POST', ISSUE, json={}).status_code == 502
    assert emulator.talos('POST', ISSUE, json={}).status_code == 502
    assert emulator.talos('POST', ISSUE, json={}).status_code == 201
