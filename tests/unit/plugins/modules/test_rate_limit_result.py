"""Modules report their waits for Ory Network's rate limits in `rate_limit`: main() over the in-process emulator."""
from __future__ import annotations

import json

import pytest

from ansible_collections.ory.network.plugins.module_utils import _client
from ansible_collections.ory.network.plugins.modules import ory_issued_api_key, ory_issued_api_key_info
from ansible_collections.ory.network.tests.unit.conftest import module_args
from ansible_collections.ory.network.tests.unit.emulator_transport import EmulatorSession, FakeClock, in_process_emulator, project_key

ONE_PER_MINUTE = {'buckets': {'talos-admin-low': {'per_minute': 1}}}


@pytest.fixture(name='world')
def fixture_world(monkeypatch):
    clock = FakeClock()
    emulator = in_process_emulator(clock, {'projects': [{'slug': 'dev', 'rate_limits': ONE_PER_MINUTE}]})
    monkeypatch.setattr(_client.requests, 'Session', lambda: EmulatorSession(emulator))
    monkeypatch.setattr(_client.time, 'sleep', clock.sleep)
    return clock, emulator


def run(module, capsys, **args):
    world_args = dict(project_api_url='http://127.0.0.1/p/%s', project_slug='dev', **args)
    with module_args(world_args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def test_a_task_that_waited_returns_rate_limit(world, capsys):
    clock, emulator = world
    key = project_key(emulator)
    first = run(ory_issued_api_key, capsys, project_api_key=key, name='first', ttl='1h', retries=0)
    assert first['changed'] is True and 'rate_limit' not in first, 'the bucket had room: nothing to report'
    second = run(ory_issued_api_key, capsys, project_api_key=key, name='second', ttl='1h', retries=0)
    assert second['changed'] is True and second['api_key']['name'] == 'second'
    assert second['rate_limit'] == {'waits': 1, 'waited_seconds': 61.0, 'throttled': 1}
    assert clock.sleeps == [pytest.approx(61.0, abs=0.5)], 'one wait of reset (60 s: no time passed on the fake clock) + 1 s; the 429 did not use up retries: 0'
    listed = run(ory_issued_api_key_info, capsys, project_api_key=key)
    assert len(listed['api_keys']) == 2 and 'rate_limit' not in listed, 'reads are another bucket'


def test_a_task_that_would_wait_too_long_fails_and_says_so(world, capsys):
    clock, emulator = world
    emulator.state.projects()[0]['settings']['rate_limits'] = dict(ONE_PER_MINUTE, time_scale=0.1)   # one write per 10 minutes
    key = project_key(emulator)
    run(ory_issued_api_key, capsys, project_api_key=key, name='first', ttl='1h')
    failed = run(ory_issued_api_key, capsys, project_api_key=key, name='second', ttl='1h', timeout=10, retries=2)
    assert failed['failed'] is True and failed['status'] == 429 and failed['reason'] == 'RATE_LIMITED'
    assert 'rate limited by Ory Network: the next try would be in 601 s' in failed['msg']
    assert 'a call waits at most 120 s' in failed['msg']
    assert failed['rate_limit'] == {'waits': 0, 'waited_seconds': 0.0, 'throttled': 1}
    assert clock.sleeps == []
