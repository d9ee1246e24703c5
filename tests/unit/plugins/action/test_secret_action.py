# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the secret rules in the key modules' action plugins, with a fake module run and a real VaultLib."""

from __future__ import annotations

import os
from unittest.mock import MagicMock

import pytest
import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.ory.network.plugins.action.ory_issued_api_key import ActionModule as IssuedKeyAction
from ansible_collections.ory.network.plugins.action.ory_project_api_key import ActionModule as ProjectKeyAction
from ansible_collections.ory.network.plugins.plugin_utils import _secret_action, _vault_store

SECRET = 'ory_pat_Zq8sEcReTvAlUe4711'
ISSUED_SECRET = 'ory_ak_v1_3mJ8kQ_9xYtR2pL'
PASSWORD = b'unit test vault password'
VAULT_SECRETS = [('prod', VaultSecret(PASSWORD))]


def created(secret=SECRET):
    """What ory_project_api_key returns when it has just created a key."""
    return {
        'changed': True,
        'api_key': {'id': 'key-1', 'name': 'ci', 'expires_at': '2027-01-01T00:00:00Z', 'last_characters': '4711'},
        'value': secret,
        'diff': {'before': '', 'after': 'name: ci\n'},
    }


class FakeModule:
    """Stands in for _execute_module: records the calls, returns a prepared result."""

    def __init__(self, result):
        self.result = result
        self.calls = []

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append({'module_name': module_name, 'module_args': dict(module_args)})
        return dict(self.result)


@pytest.fixture(autouse=True)
def no_global_vault_context(monkeypatch):
    """Only the DataLoader given to the action carries vault secrets in these tests."""
    monkeypatch.setattr(_secret_action, 'VaultSecretsContext', None)


@pytest.fixture
def make_action(tmp_path):
    def make(args, module_result=None, register=None, check_mode=False, diff=False, secrets=None, cls=ProjectKeyAction):
        task = MagicMock()
        task.args = dict(args)
        task.register = register
        task.check_mode = check_mode
        task.diff = diff
        task.async_val = 0
        task.action = cls.MODULE
        connection = MagicMock()
        connection._shell.tmpdir = None
        loader = DataLoader()
        loader.set_basedir(str(tmp_path))
        loader.set_vault_secrets(VAULT_SECRETS if secrets is None else secrets)
        action = cls(task, connection, MagicMock(), loader, None, None)
        action._execute_module = FakeModule(created() if module_result is None else module_result)
        action._remove_tmp_path = MagicMock()
        return action
    return make


def read_vault(path):
    with open(path, 'rb') as handle:
        return yaml.safe_load(VaultLib(VAULT_SECRETS).decrypt(handle.read()))


def test_registered_only_keeps_the_secret_but_hides_the_output(make_action):
    action = make_action({'name': 'ci'}, register='ci_key')
    result = action.run(task_vars={})
    assert action._execute_module.calls[0]['module_name'] == 'ory.network.ory_project_api_key'
    assert action._secret_sink == 'result'
    assert result['value'] == SECRET
    assert result['_ansible_no_log'] is True
    assert 'vault' not in result


def test_not_registered_nor_stored_nor_revealed_asks_the_module_to_refuse(make_action):
    refusal = {
        'failed': True,
        'changed': False,
        'msg': 'The new secret would be lost: register the result, set vault_dest and vault_var, or set reveal_secret: true.',
    }
    action = make_action({'name': 'ci'}, module_result=refusal)
    result = action.run(task_vars={})
    assert action._secret_sink == 'none'
    assert result['failed'] is True
    assert 'would be lost' in result['msg']


def test_reveal_secret_leaves_it_visible(make_action):
    action = make_action({'name': 'ci', 'reveal_secret': 'yes'})
    result = action.run(task_vars={})
    assert action._secret_sink == 'result'
    assert result['value'] == SECRET
    assert '_ansible_no_log' not in result


def test_vault_dest_stores_and_removes_the_secret(make_action, tmp_path):
    dest = str(tmp_path / 'group_vars' / 'all' / 'ci.yml')
    action = make_action({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'})
    result = action.run(task_vars={})
    assert action._secret_sink == 'result'
    assert 'value' not in result
    assert '_ansible_no_log' not in result
    assert SECRET not in repr(result)
    assert result['changed'] is True
    assert result['vault'] == {'path': dest, 'var': 'ci_key', 'changed': True}
    stored = read_vault(dest)
    assert stored['ci_key'] == SECRET
    assert stored['ci_key_meta']['key_id'] == 'key-1'
    assert stored['ci_key_meta']['last_characters'] == '4711'

    again = make_action({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'}).run(task_vars={})
    assert again['vault']['changed'] is False


def test_vault_dest_with_reveal_secret_still_removes_the_stored_secret(make_action, tmp_path):
    dest = str(tmp_path / 'ci.yml')
    result = make_action({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key', 'reveal_secret': True}).run(task_vars={})
    assert 'value' not in result
    assert read_vault(dest)['ci_key'] == SECRET


def test_relative_vault_dest_is_below_the_playbook_directory(make_action, tmp_path):
    result = make_action({'name': 'ci', 'vault_dest': 'vault/ci.yml', 'vault_var': 'ci_key'}).run(task_vars={})
    assert result['vault']['path'] == str(tmp_path / 'vault' / 'ci.yml')
    assert read_vault(str(tmp_path / 'vault' / 'ci.yml'))['ci_key'] == SECRET


def test_check_mode_writes_no_vault_file(make_action, tmp_path):
    dest = str(tmp_path / 'vault' / 'ci.yml')
    result = make_action({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'}, check_mode=True).run(task_vars={})
    assert result['vault']['changed'] is True
    assert 'value' not in result
    assert not os.path.exists(str(tmp_path / 'vault'))


def test_diff_mode_merges_module_and_vault_diffs_without_values(make_action, tmp_path):
    dest = str(tmp_path / 'ci.yml')
    result = make_action({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'}, diff=True).run(task_vars={})
    assert isinstance(result['diff'], list) and len(result['diff']) == 2
    assert result['diff'][0] == {'before': '', 'after': 'name: ci\n'}
    assert result['diff'][1]['after'] == 'ci_key: <hidden, changed>\nci_key_meta: <hidden, changed>\n'
    assert SECRET not in repr(result)


@pytest.mark.parametrize('args, missing', [
    ({'vault_dest': 'x.yml'}, 'vault_var is required when vault_dest is set'),
    ({'vault_var': 'ci_key'}, 'vault_dest is required when vault_var is set'),
    ({'vault_id': 'prod'}, 'vault_id only applies together with vault_dest'),
    ({'reveal_secret': 'maybe'}, 'reveal_secret must be a boolean'),
])
def test_option_errors_stop_before_the_module_runs(make_action, args, missing):
    action = make_action(dict(args, name='ci'), register='r')
    result = action.run(task_vars={})
    assert result['failed'] is True
    assert missing in result['msg']
    assert not action._execute_module.calls


def test_no_vault_secret_loaded_fails_before_the_module_runs(make_action, tmp_path):
    action = make_action({'name': 'ci', 'vault_dest': str(tmp_path / 'ci.yml'), 'vault_var': 'ci_key'}, secrets=[])
    result = action.run(task_vars={})
    assert result['failed'] is True
    assert 'no vault secret is loaded in this run' in result['msg']
    assert not action._execute_module.calls


def test_wrong_vault_password_fails_before_the_module_runs(make_action, tmp_path):
    dest = str(tmp_path / 'ci.yml')
    other = [('prod', VaultSecret(b'some other password'))]
    with open(dest, 'wb') as handle:
        handle.write(VaultLib(other).encrypt('a: 1\n', secret=other[0][1], vault_id='prod'))
    with open(dest, 'rb') as handle:
        before = handle.read()
    action = make_action({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'})
    result = action.run(task_vars={})
    assert result['failed'] is True
    assert 'none of the loaded vault secrets decrypts it' in result['msg']
    assert dest in result['msg']
    assert not action._execute_module.calls
    with open(dest, 'rb') as handle:
        assert handle.read() == before


def test_unknown_vault_id_fails_before_the_module_runs(make_action, tmp_path):
    action = make_action({'name': 'ci', 'vault_dest': str(tmp_path / 'ci.yml'), 'vault_var': 'ci_key', 'vault_id': 'qa'})
    result = action.run(task_vars={})
    assert "vault id 'qa' is not loaded" in result['msg']
    assert not action._execute_module.calls


def test_store_failure_names_the_key_and_path_never_the_secret(make_action, tmp_path, monkeypatch):
    dest = str(tmp_path / 'ci.yml')

    def broken_store(*args, **kwargs):
        raise _vault_store.VaultStoreError(dest, 'cannot be written (No space left on device)')

    monkeypatch.setattr(_secret_action, 'store_secret', broken_store)
    action = make_action({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'}, register='r')
    result = action.run(task_vars={})
    assert result['failed'] is True
    assert result['changed'] is True
    assert 'key-1' in result['msg']
    assert dest in result['msg']
    assert 'next run repairs it' in result['msg']
    assert 'value' not in result
    assert SECRET not in repr(result)


def test_unexpected_store_error_is_named_by_type_only(make_action, tmp_path, monkeypatch):
    def broken_store(*args, **kwargs):
        raise TypeError('bad value %s' % args[2])

    monkeypatch.setattr(_secret_action, 'store_secret', broken_store)
    result = make_action({'name': 'ci', 'vault_dest': str(tmp_path / 'ci.yml'), 'vault_var': 'ci_key'}).run(task_vars={})
    assert result['failed'] is True
    assert 'unexpected TypeError' in result['msg']
    assert 'key-1' in result['msg']
    assert SECRET not in repr(result)


def test_store_failure_from_a_real_write_error(make_action, tmp_path, monkeypatch):
    dest = str(tmp_path / 'ci.yml')

    def crash(src, dst):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(_vault_store.os, 'replace', crash)
    result = make_action({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'}).run(task_vars={})
    assert result['failed'] is True
    assert 'No space left on device' in result['msg']
    assert SECRET not in repr(result)
    assert not os.path.exists(dest)


def test_result_without_a_secret_passes_through(make_action, tmp_path):
    unchanged = {'changed': False, 'api_key': {'id': 'key-1', 'name': 'ci'}}
    dest = str(tmp_path / 'ci.yml')
    result = make_action({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'}, module_result=unchanged).run(task_vars={})
    assert result == unchanged
    assert not os.path.exists(dest)
    registered = make_action({'name': 'ci'}, module_result=unchanged, register='r').run(task_vars={})
    assert '_ansible_no_log' not in registered


def test_issued_key_plugin_reads_its_own_result_keys(make_action, tmp_path):
    dest = str(tmp_path / 'ci.yml')
    issued = {
        'changed': True,
        'api_key': {'key_id': 'ak-7', 'name': 'billing', 'expire_time': '2027-02-02T00:00:00Z'},
        'secret': ISSUED_SECRET,
        'old_key_id': 'ak-6',
    }
    action = make_action({'name': 'billing', 'vault_dest': dest, 'vault_var': 'billing_key'}, module_result=issued, cls=IssuedKeyAction)
    result = action.run(task_vars={})
    assert action._execute_module.calls[0]['module_name'] == 'ory.network.ory_issued_api_key'
    assert 'secret' not in result
    assert result['old_key_id'] == 'ak-6'
    meta = read_vault(dest)['billing_key_meta']
    assert read_vault(dest)['billing_key'] == ISSUED_SECRET
    assert meta['key_id'] == 'ak-7'
    assert meta['expires_at'] == '2027-02-02T00:00:00Z'
    assert meta['last_characters'] == ISSUED_SECRET[-4:]


def test_issued_key_registered_only_is_hidden(make_action):
    issued = {'changed': True, 'api_key': {'key_id': 'ak-7'}, 'secret': ISSUED_SECRET}
    result = make_action({'name': 'billing'}, module_result=issued, register='k', cls=IssuedKeyAction).run(task_vars={})
    assert result['secret'] == ISSUED_SECRET
    assert result['_ansible_no_log'] is True


def test_vault_secrets_come_from_the_loader(make_action):
    assert make_action({}).loaded_vault_secrets() == VAULT_SECRETS
    assert make_action({}, secrets=[]).loaded_vault_secrets() == []


class SequenceModule(FakeModule):
    """Returns prepared results in order, one per call."""

    def __init__(self, *results):
        super().__init__(None)
        self.results = list(results)

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append({'module_name': module_name, 'module_args': dict(module_args)})
        return dict(self.results.pop(0))


def replaced(secret=SECRET):
    result = created(secret)
    result.update(old_key_id='old-key', old_key_retired=False)
    return result


@pytest.mark.parametrize('cls,retire_args', [
    (ProjectKeyAction, {'state': 'absent', 'id': 'old-key', 'name': 'ci', 'project_id': 'p1'}),
    (IssuedKeyAction, {'state': 'absent', 'key_id': 'old-key', 'revoke_reason': 'superseded'}),
])
def test_replaced_key_is_retired_only_after_the_new_secret_is_stored(make_action, tmp_path, cls, retire_args):
    dest = str(tmp_path / 'vault.yml')
    args = {'name': 'ci', 'project_id': 'p1', 'vault_dest': dest, 'vault_var': 'ci_key', 'workspace_api_key': 'ory_wak_x1', 'expires_in': '30d'}
    action = make_action(args, cls=cls)
    stored_when_retired = []
    first_result = replaced()
    if cls is IssuedKeyAction:
        first_result['secret'] = first_result.pop('value')
    sequence = SequenceModule(first_result, {'changed': True})
    original = sequence.__call__

    def observe(*a, **kw):
        if len(sequence.calls) == 1:
            stored_when_retired.append(os.path.exists(dest) and read_vault(dest).get('ci_key') == SECRET)
        return original(*a, **kw)
    action._execute_module = observe
    result = action.run(task_vars={})
    assert not result.get('failed'), result.get('msg')
    first, second = sequence.calls
    assert first['module_args']['retire_replaced'] is False, 'the module keeps the old key live'
    assert stored_when_retired == [True], 'the secret was in the vault file before the old key was retired'
    for key, value in retire_args.items():
        assert second['module_args'][key] == value
    assert 'expires_in' not in second['module_args'] and 'vault_dest' not in second['module_args']
    assert second['module_args']['workspace_api_key'] == 'ory_wak_x1'
    assert result['old_key_retired'] is True
    assert 'value' not in result and 'secret' not in result


def test_retire_replaced_false_keeps_the_old_key(make_action, tmp_path):
    dest = str(tmp_path / 'vault.yml')
    action = make_action({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key', 'retire_replaced': False})
    action._execute_module = SequenceModule(replaced())
    result = action.run(task_vars={})
    assert len(action._execute_module.calls) == 1
    assert result['old_key_retired'] is False and result['old_key_id'] == 'old-key'


def test_failed_retire_fails_the_task_and_keeps_the_stored_secret(make_action, tmp_path):
    dest = str(tmp_path / 'vault.yml')
    action = make_action({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'})
    action._execute_module = SequenceModule(replaced(), {'failed': True, 'msg': 'DELETE /projects/p1/tokens/old-key failed: HTTP 503.'})
    result = action.run(task_vars={})
    assert result['failed'] is True and result['changed'] is True
    assert result['old_key_retired'] is False
    assert 'old-key could not be retired and stays live' in result['msg'] and 'id: old-key' in result['msg']
    assert read_vault(dest)['ci_key'] == SECRET
    assert SECRET not in str(result)


def test_without_vault_dest_the_module_retires_itself(make_action):
    action = make_action({'name': 'ci'}, module_result=replaced(), register='r')
    action.run(task_vars={})
    assert 'retire_replaced' not in action._execute_module.calls[0]['module_args']
    assert len(action._execute_module.calls) == 1
