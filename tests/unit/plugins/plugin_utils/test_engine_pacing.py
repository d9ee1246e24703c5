# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bootstrap engine shows its progress while it paces itself (issue 13): the emulator in this process with the
Develop plan's Talos write limits, one fake clock for the emulator's buckets and the client's pacing and sleeps."""
from __future__ import annotations

import re

import pytest
import requests

from ansible.parsing.vault import VaultSecret

from ansible_collections.ory.network.plugins.module_utils import _client
from ansible_collections.ory.network.plugins.module_utils._pacing import Pacer
from ansible_collections.ory.network.plugins.modules import ory_api_key_bootstrap
from ansible_collections.ory.network.plugins.plugin_utils._bootstrap import Engine
from ansible_collections.ory.network.tests.unit.conftest import SECRET_RE, EmulatorAdapter, Ory, check_return_doc
from ansible_collections.ory.network.tests.unit.emulator_transport import FakeClock

VAULT_SECRETS = [('default', VaultSecret(b'engine-pacing-test'))]
KEYS = 20


@pytest.fixture
def paced(monkeypatch):
    """An emulator whose project has the Develop plan's limits; every client of the collection on the fake clock."""
    clock = FakeClock()
    env = Ory({'projects': [{'slug': 'dev', 'rate_limits': {'plan': 'develop'}, 'key_quota': 10000}]})
    env.emulator.limiter.clock = clock.now
    real_session = requests.Session

    def session():
        sess = real_session()
        sess.mount('http://', EmulatorAdapter(env))
        return sess

    monkeypatch.setattr(_client.requests, 'Session', session)
    monkeypatch.setattr(_client.time, 'sleep', clock.sleep)
    monkeypatch.setattr(_client, 'Pacer', lambda sleep, clock_=None, max_wait=120: Pacer(sleep, clock.now, max_wait))
    for name in list(__import__('os').environ):
        if name.startswith('ORY_'):
            monkeypatch.delenv(name)
    return env, clock


def params(env):
    return dict(env.connection(), environment='ci', name_prefix=None, project_api_keys=[dict(name='talos', expires_in='30d')],
                issued_api_keys=[dict(name='svc-%02d' % index, actor_id='svc', ttl='30d') for index in range(KEYS)],
                imported_api_keys=[], talos_key='talos', vault_dest=None, vault_id=None, on_missing_secret='rotate',
                verify='stored', prune=False)


def test_a_paced_bootstrap_shows_the_writes_left_and_the_wait_ahead(paced, tmp_path):
    env, clock = paced
    shown, progress = [], []
    result = Engine(params(env), str(tmp_path / 'vault.yml'), VAULT_SECRETS, report=shown.append, progress=progress.append).run()
    assert result['changed'] and len(env.issued_keys()) == KEYS
    assert clock.sleeps, 'the Develop plan (5 writes per second, 15 per minute) made the run wait'

    waits = [line for line in progress if line.startswith('rate limit: waiting')]
    assert len(waits) == result['rate_limit']['waits'] > 0
    lefts = [int(re.search(r'(\d+) writes? left', line).group(1)) for line in waits]
    assert lefts == sorted(lefts, reverse=True) and 0 < lefts[0] < KEYS, lefts
    assert any('of waiting ahead' in line for line in waits), waits
    ahead = [int(re.search(r'about (\d+) s of waiting ahead', line).group(1)) for line in waits if 'ahead' in line]
    assert max(ahead) >= 4, 'past the per-minute bucket each write costs 4 s of waiting'
    # default verbosity: the key lines and one summary of the waiting, no line per wait
    assert not any(line.startswith('rate limit: waiting') for line in shown)
    assert [line for line in shown if line.startswith('rate limit:')] == [
        'rate limit: waited %d times, %.1f s in all (0 requests answered 429)' % (
            result['rate_limit']['waits'], result['rate_limit']['waited_seconds'])]
    assert result['rate_limit']['throttled'] == 0, 'the engine paced itself before the bucket was empty'
    assert abs(result['rate_limit']['waited_seconds'] - sum(clock.sleeps)) < 0.2
    for line in shown + progress:
        assert not SECRET_RE.search(line), line
    check_return_doc(ory_api_key_bootstrap, result)

    # the rerun changes nothing, writes nothing and has no rate_limit to report
    shown[:], progress[:] = [], []
    again = Engine(params(env), str(tmp_path / 'vault.yml'), VAULT_SECRETS, report=shown.append, progress=progress.append).run()
    assert not again['changed'] and 'rate_limit' not in again and progress == []
