"""The client paces itself from Ory's rate limit headers: driven over the emulator in this process, on a fake clock."""
from __future__ import annotations

import pytest

from ansible_collections.ory.network.plugins.module_utils import _pacing
from ansible_collections.ory.network.plugins.module_utils._client import OryApiError, OryClient
from ansible_collections.ory.network.plugins.module_utils._pacing import Pacer, parse_headers, request_kind
from ansible_collections.ory.network.tests.unit.emulator_transport import (
    EmulatorSession, FakeClock, in_process_emulator, project_key, project_url,
)

ISSUE = '/v2alpha1/admin/issuedApiKeys'
DEVELOP = {'plan': 'develop'}          # talos-admin-low: 5 per second, 15 per minute


def setup(rate_limits=None, retries=5, timeout=30, clients=1):
    clock = FakeClock()
    emulator = in_process_emulator(clock, {'projects': [{'slug': 'dev', 'rate_limits': rate_limits or DEVELOP, 'key_quota': 10000}]})
    made = [OryClient(project_url(emulator), project_key(emulator), timeout=timeout, retries=retries, sleep=clock.sleep, clock=clock.now,
                      session=EmulatorSession(emulator)) for dummy in range(clients)]
    return clock, emulator, made


def issue(client, name):
    return client.request('POST', ISSUE, body={'name': name, 'ttl': '1h'}, expected=(201,))


def throttled(emulator):
    return emulator.stats.snapshot().get('throttled', {})


def test_a_bootstrap_paces_itself_without_429s_at_the_bucket_rate():
    clock, emulator, (client,) = setup()
    start = clock.now()
    for index in range(45):
        assert issue(client, 'k%d' % index)['secret']
    elapsed = clock.now() - start
    assert throttled(emulator) == {}, 'the client waited before the bucket was empty, never after'
    assert emulator.stats.snapshot()['requests'] == {'POST %s' % ISSUE: 45}
    # 15 in the bucket, then 30 more at one every 4 s: the physical limit is 120 s; pacing costs at most 20 % on top
    assert 120 <= elapsed <= 1.2 * 45 * 4
    assert client.pacing.waits == len(clock.sleeps) and client.pacing.throttled == 0
    assert abs(client.pacing.waited_seconds - sum(clock.sleeps)) < 1e-6
    assert all(seconds <= 5 for seconds in clock.sleeps), 'each wait is reset + 1 s at most'


def test_remaining_zero_waits_before_the_next_request_not_after():
    clock, dummy, (client,) = setup()
    for index in range(5):
        issue(client, 'burst-%d' % index)
    assert clock.sleeps == [], 'five requests fit the per-second bucket'
    state = client.pacing._buckets['5;w=1, 15;w=60']  # pylint: disable=protected-access
    assert state['remaining'] == 0 and state['reset'] == 0
    issue(client, 'sixth')
    assert clock.sleeps == [1.0], 'reset 0 (under a second): wait one second, then send'


def test_a_429_with_reset_is_waited_out_and_is_not_a_failed_attempt():
    clock, emulator, (first, second) = setup(retries=0, clients=2)
    for index in range(15):
        issue(first, 'first-%d' % index)            # the other environment empties the per-minute bucket
    before = clock.now()
    created = issue(second, 'second')                  # retries=0: any counted failure would raise
    assert created['issued_api_key']['name'] == 'second'
    assert second.pacing.throttled >= 1 and sum(throttled(emulator).values()) == second.pacing.throttled
    assert second.pacing.waits == second.pacing.throttled
    assert clock.now() - before >= 1.0
    names = [key['name'] for key in second.paginate(ISSUE, 'issued_api_keys')]
    assert names.count('second') == 1, 'the throttled write never reached the API and was sent once more'


def test_the_wait_for_429s_is_bounded():
    # a per-minute bucket 100 times slower: one request per 6000 s (reset 6000, + 1 s), more than a call may wait (120 s)
    clock, dummy, (client,) = setup(rate_limits={'buckets': {'talos-admin-low': {'per_minute': 1}}, 'time_scale': 0.01}, timeout=10, retries=1)
    issue(client, 'one')
    other = OryClient(client.base_url, 'unused', timeout=10, retries=1, sleep=clock.sleep, clock=clock.now, session=client.session)
    with pytest.raises(OryApiError) as info:
        issue(other, 'two')
    assert info.value.status == 429 and info.value.reason == 'RATE_LIMITED'
    assert str(info.value) == ('POST %s failed: HTTP 429 RATE_LIMITED: rate limited by Ory Network: the next try would be in 6001 s after 0 s '
                               'of waiting, and a call waits at most 120 s (timeout x (retries + 1), at least 120 s).' % ISSUE)
    assert clock.sleeps == [], 'a wait longer than the bound is not started'


def test_reads_are_not_held_by_an_empty_write_bucket():
    clock, dummy, (client,) = setup(rate_limits={'plan': 'develop', 'buckets': {'talos-admin-medium': {'per_second': 20}}})
    for index in range(5):
        issue(client, 'w%d' % index)
    client.request('GET', ISSUE)
    assert clock.sleeps == [], 'the list is in another bucket (other x-ratelimit-limit), so it did not wait'
    issue(client, 'w5')
    assert clock.sleeps == [1.0]


def test_a_write_with_an_unknown_outcome_is_not_sent_again():
    clock, emulator, (client,) = setup()
    emulator.faults.add({'fault': 'drop_after_commit', 'method': 'POST', 'endpoint': ISSUE})
    with pytest.raises(OryApiError):
        issue(client, 'lost')
    assert emulator.stats.snapshot()['requests'] == {'POST %s' % ISSUE: 1}
    assert [key['name'] for key in client.paginate(ISSUE, 'issued_api_keys')] == ['lost']
    # the outcome is unknown and there is no re-read: the call fails at once, nothing is waited for or sent again
    assert client.pacing.waits == 0, 'pacing had nothing to wait for'


def test_progress_hook_summary_and_estimate():
    _pacing.reset_process_totals()
    clock, dummy, (client,) = setup()
    events = []
    client.pacing.on_wait = events.append
    assert client.pacing.estimate('POST', ISSUE, 100) is None, 'nothing is known before the first answer'
    for index in range(20):
        issue(client, 'p%d' % index)
    assert events and events[-1]['waits'] == len(events) == client.pacing.waits
    assert {event['reason'] for event in events} == {'paced'}
    assert events[-1]['bucket'] == '5;w=1, 15;w=60' and events[-1]['method'] == 'POST'
    assert abs(events[-1]['waited_seconds'] - sum(clock.sleeps)) < 1e-6
    # 100 more writes at the sustained rate of 15 per 60 s: about 400 s
    assert 390 <= client.pacing.estimate('POST', ISSUE, 100) <= 400
    summary = client.pacing.summary()
    assert summary == {'waits': len(events), 'waited_seconds': round(sum(clock.sleeps), 1), 'throttled': 0}
    assert _pacing.process_summary() == summary
    _pacing.reset_process_totals()
    assert _pacing.process_summary() is None


def test_header_parsing():
    assert parse_headers({}) == (None, None, None, [])
    bucket, remaining, reset, policies = parse_headers({'x-ratelimit-limit': '15, 5;w=1, 15;w=60', 'x-ratelimit-remaining': '0',
                                                       'x-ratelimit-reset': '3'})
    assert (bucket, remaining, reset, policies) == ('5;w=1, 15;w=60', 0, 3.0, [(5, 1.0), (15, 60.0)])
    # one value per bucket: the empty one decides the wait
    assert parse_headers({'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '3, 0', 'x-ratelimit-reset': '0, 45'})[1:3] == (0, 45.0)
    assert parse_headers({'x-ratelimit-limit': '10', 'x-ratelimit-remaining': 'many', 'x-ratelimit-reset': '2'})[1:3] == (None, 2.0)
    assert request_kind('POST', ISSUE + '/3f2b8c1e-9d4a-4b6e-8f1a-2c3d4e5f6a7b:rotate') == 'POST %s/{id}:rotate' % ISSUE


def test_a_bare_429_with_reset_only_is_honoured():
    class Response:
        status_code = 429
        headers = {'x-ratelimit-reset': '7'}
    clock = FakeClock()
    pacer = Pacer(clock.sleep, clock.now)
    assert pacer.after('POST', ISSUE, Response()) == 8.0
    assert pacer.before('POST', ISSUE) == 8.0 and clock.sleeps == [8.0]
    assert pacer.before('POST', ISSUE) == 0.0, 'one wait per refill'
