# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability of the writes against the emulator's injected faults: no fault may leave a live key whose secret
nobody holds, or a second key. The emulator runs in this process (a thread); faults go through its admin API."""

from __future__ import annotations

import time

import pytest
import requests

from ansible_collections.ory.network.plugins.module_utils._client import OryApiError, OryClient
from ansible_collections.ory.network.plugins.module_utils._console import create_project_key, delete_project_key, list_project_keys
from ansible_collections.ory.network.plugins.module_utils._talos import ACTIVE, REVOKED, Talos
from ansible_collections.ory.network.tests.unit.emulator_live import LiveEmulator


class Emu:
    """The unit tests' in-process emulator, with the admin calls and clients these tests use."""

    def __init__(self):
        self.live = LiveEmulator()
        self.info = self.live.info
        self.stop = self.live.stop

    def fault(self, **rule):
        requests.post(self.info['admin_url'] + '/faults', json=rule, timeout=5).raise_for_status()

    def clear(self):
        requests.delete(self.info['admin_url'] + '/faults', timeout=5).raise_for_status()

    def count(self, key):
        return requests.get(self.info['admin_url'] + '/stats', timeout=5).json()['requests'].get(key, 0)

    def console(self, timeout=5, retries=2):
        return OryClient(self.info['console_url'], self.info['workspace_api_key'], timeout=timeout, retries=retries)

    def talos(self, timeout=5, retries=2):
        return Talos(OryClient(self.info['project_url'], self.info['project_api_key'], timeout=timeout, retries=retries))


@pytest.fixture(name='emu')
def fixture_emu():
    emulator = Emu()
    yield emulator
    emulator.stop()


def named(keys, name):
    return [k for k in keys if k.get('name') == name]


# ---- 1. a write slower than the timeout is never sent twice blindly

def test_create_slower_than_timeout_leaves_one_key_with_its_secret(emu):
    project = emu.info['project_id']
    emu.fault(fault='slow', delay=2.5, times=1, endpoint='POST /projects/{project}/tokens')
    client = emu.console(timeout=1)
    created = create_project_key(client, project, 'slow-ci', None, known_ids=set())
    time.sleep(2.5)       # any request still running on the server has landed by now
    keys = named(list_project_keys(client, project), 'slow-ci')
    assert [k['id'] for k in keys] == [created['id']], 'the timed-out create landed later and was left live'
    assert created['value'].endswith(keys[0]['last_characters'])


def test_create_that_always_times_out_leaves_no_key(emu):
    project = emu.info['project_id']
    emu.fault(fault='slow', delay=2, times=10, endpoint='POST /projects/{project}/tokens')
    client = emu.console(timeout=1, retries=1)
    with pytest.raises(OryApiError):
        create_project_key(client, project, 'always-slow', None, known_ids=set())
    emu.clear()
    time.sleep(2)         # any request still running on the server has landed by now
    assert named(list_project_keys(client, project), 'always-slow') == []


# ---- 2. an issue whose answers are all lost revokes what it created

def test_issue_whose_answers_are_all_lost_leaves_no_active_key(emu):
    emu.fault(fault='drop_after_commit', times=50, endpoint='POST /v2alpha1/admin/issuedApiKeys')
    talos = emu.talos(retries=1)
    with pytest.raises(OryApiError) as info:
        talos.issue({'name': 'lost', 'actor_id': 'svc-lost', 'ttl': '1h'})
    emu.clear()
    keys = [k for k in talos.list(actor_id='svc-lost') if k.get('name') == 'lost']
    assert keys and all(k['status'] == REVOKED for k in keys)
    text = str(info.value)
    assert '\n' not in text and all(k['key_id'] in text for k in keys), text


def test_issue_slower_than_timeout_gives_one_key(emu):
    emu.fault(fault='slow', delay=2, times=1, endpoint='POST /v2alpha1/admin/issuedApiKeys')
    talos = emu.talos(timeout=1)
    key, secret = talos.issue({'name': 'slow', 'actor_id': 'svc-slow', 'ttl': '1h'})
    assert secret
    time.sleep(1.5)       # the first request lands now: a replay of its request_id, no second key
    active = [k for k in talos.list(actor_id='svc-slow') if k['status'] == ACTIVE]
    assert [k['key_id'] for k in active] == [key['key_id']]


# ---- 3. HTTP 500 is retried where sending again is safe

def test_one_500_on_delete_is_retried(emu):
    project = emu.info['project_id']
    client = emu.console()
    created = create_project_key(client, project, 'to-delete', None, known_ids=set())
    emu.fault(fault='status', status=500, times=1, endpoint='DELETE /projects/{project}/tokens/{token_id}')
    delete_project_key(client, project, created['id'])
    assert named(list_project_keys(client, project), 'to-delete') == []


def test_one_500_on_revoke_is_retried(emu):
    talos = emu.talos()
    key, dummy = talos.issue({'name': 'to-revoke', 'actor_id': 'svc-revoke', 'ttl': '1h'})
    emu.fault(fault='status', status=500, times=1, endpoint='POST /v2alpha1/admin/issuedApiKeys/{key_id}:revoke')
    assert talos.revoke(key['key_id'], 'superseded') is True
    assert talos.get(key['key_id'])['status'] == REVOKED


def test_500_on_a_read_is_retried(emu):
    emu.fault(fault='status', status=500, times=2, endpoint='GET /projects/{project}/tokens')
    assert isinstance(list_project_keys(emu.console(), emu.info['project_id']), list)
    assert emu.count('GET /projects/{project}/tokens') == 3


def test_500_on_create_rereads_before_sending_again(emu):
    project = emu.info['project_id']
    emu.fault(fault='status', status=500, times=1, endpoint='POST /projects/{project}/tokens')
    created = create_project_key(emu.console(), project, 'after-500', None, known_ids=set())
    assert created['value']
    assert emu.count('GET /projects/{project}/tokens') == 1, 'the keys are re-read before the create is sent again'
    assert len(named(list_project_keys(emu.console(), project), 'after-500')) == 1
