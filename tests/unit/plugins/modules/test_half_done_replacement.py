# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A replacement whose retire step failed for good leaves the old key live next to the new one, whose secret is stored
in vault_dest; a run killed between the create and the store leaves a new key live whose secret nobody holds. The next
run must keep the stored key and retire the other instead of stopping with "matches 2 live keys"."""

from __future__ import annotations

import json
import time
from unittest import mock

import pytest
import requests


from ansible_collections.ory.network.plugins.module_utils._options import STORED_KEY_ENV
from ansible_collections.ory.network.plugins.modules import ory_issued_api_key, ory_project_api_key
from ansible_collections.ory.network.tests.unit.conftest import module_args
from ansible_collections.ory.network.tests.unit.emulator_live import LiveEmulator


@pytest.fixture(name='emu')
def fixture_emu():
    live = LiveEmulator()
    yield live.info
    live.stop()


def run_main(module, args, capsys, check=False):
    args = dict(args)
    if check:
        args['_ansible_check_mode'] = True
    # what the action plugin tells the module through its environment: the key id whose secret vault_dest holds
    stored = args.pop('stored_key_id', None)
    environ = {STORED_KEY_ENV: stored} if stored is not None else {}
    with module_args(args), mock.patch.dict('os.environ', environ):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def console_keys(emu, name):
    keys = requests.get('%s/projects/%s/tokens' % (emu['console_url'], emu['project_id']), timeout=5,
                        headers={'Authorization': 'Bearer ' + emu['workspace_api_key']}).json()
    return [k for k in keys if k['name'] == name]


def project_args(emu, **extra):
    return dict(workspace_api_key=emu['workspace_api_key'], console_api_url=emu['console_url'], project_id=emu['project_id'],
                name='ci', expires_in='30d', **extra)


def issued_args(emu, **extra):
    return dict(project_api_key=emu['project_api_key'], project_api_url=emu['project_url'], name='ci', actor_id='svc', ttl='30d',
                **extra)


def two_project_keys(emu, capsys):
    old = run_main(ory_project_api_key, project_args(emu), capsys)['api_key']['id']
    time.sleep(1.1)      # creation times are whole seconds
    new = run_main(ory_project_api_key, project_args(emu, recreate='always', retire_replaced=False), capsys)['api_key']['id']
    return old, new


def test_project_key_next_run_deletes_the_older_key(emu, capsys):
    old, new = two_project_keys(emu, capsys)
    assert {k['id'] for k in console_keys(emu, 'ci')} == {old, new}
    checked = run_main(ory_project_api_key, project_args(emu, stored_key_id=new), capsys, check=True)
    assert checked['changed'] is True and checked['retired_key_ids'] == [old]
    assert len(console_keys(emu, 'ci')) == 2, 'check mode deletes nothing'
    result = run_main(ory_project_api_key, project_args(emu, stored_key_id=new), capsys)
    assert result['changed'] is True and result['retired_key_ids'] == [old] and result['api_key']['id'] == new
    assert 'value' not in result
    assert [k['id'] for k in console_keys(emu, 'ci')] == [new]
    again = run_main(ory_project_api_key, project_args(emu, stored_key_id=new), capsys)
    assert again['changed'] is False and 'retired_key_ids' not in again


def test_project_key_newer_key_whose_secret_was_never_stored_is_deleted(emu, capsys):
    # a run killed between the create and the store: the new key is live, its secret is gone, the vault holds the old one
    old, new = two_project_keys(emu, capsys)
    result = run_main(ory_project_api_key, project_args(emu, stored_key_id=old), capsys)
    assert result['changed'] is True and result['retired_key_ids'] == [new] and result['api_key']['id'] == old
    assert [k['id'] for k in console_keys(emu, 'ci')] == [old]


def test_project_key_without_a_stored_key_still_stops(emu, capsys):
    two_project_keys(emu, capsys)
    result = run_main(ory_project_api_key, project_args(emu), capsys)
    assert result['failed'] is True and 'matches 2 live keys' in result['msg']


def test_issued_key_next_run_revokes_the_older_key(emu, capsys):
    old = run_main(ory_issued_api_key, issued_args(emu), capsys)['api_key']['key_id']
    time.sleep(1.1)
    new = run_main(ory_issued_api_key, issued_args(emu, rotate='always', retire_replaced=False), capsys)['api_key']['key_id']
    result = run_main(ory_issued_api_key, issued_args(emu, stored_key_id=new), capsys)
    assert result['changed'] is True and result['retired_key_ids'] == [old] and result['api_key']['key_id'] == new
    assert 'secret' not in result
    again = run_main(ory_issued_api_key, issued_args(emu, stored_key_id=new), capsys)
    assert again['changed'] is False
    stale = requests.get('%s/v2alpha1/admin/issuedApiKeys/%s' % (emu['project_url'], old), timeout=5,
                         headers={'Authorization': 'Bearer ' + emu['project_api_key']}).json()
    assert stale['status'] == 'KEY_STATUS_REVOKED' and stale['revocation_reason'] == 'REVOCATION_REASON_SUPERSEDED'


def test_issued_key_newer_key_whose_secret_was_never_stored_is_revoked(emu, capsys):
    old = run_main(ory_issued_api_key, issued_args(emu), capsys)['api_key']['key_id']
    time.sleep(1.1)
    orphan = run_main(ory_issued_api_key, issued_args(emu, rotate='always', retire_replaced=False), capsys)['api_key']['key_id']
    checked = run_main(ory_issued_api_key, issued_args(emu, stored_key_id=old), capsys, check=True)
    assert checked['changed'] is True and checked['retired_key_ids'] == [orphan]
    result = run_main(ory_issued_api_key, issued_args(emu, stored_key_id=old), capsys)
    assert result['changed'] is True and result['retired_key_ids'] == [orphan] and result['api_key']['key_id'] == old
    again = run_main(ory_issued_api_key, issued_args(emu, stored_key_id=old), capsys)
    assert again['changed'] is False and 'retired_key_ids' not in again
