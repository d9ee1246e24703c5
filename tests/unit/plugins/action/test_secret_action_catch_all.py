# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whatever the action plugin or the vault writer raises, the task fails naming the key id and the exception type only."""

from __future__ import annotations

import os
from unittest.mock import MagicMock

import pytest
import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.ory.network.plugins.action.ory_issued_api_key import ActionModule as IssuedKeyAction
from ansible_collections.ory.network.plugins.action.ory_project_api_key import ActionModule as ProjectKeyAction
from ansible_collections.ory.network.plugins.module_utils._options import SECRET_SINK_ENV, secret_sink
from ansible_collections.ory.network.plugins.plugin_utils import _secret_action, _vault_store

SECRET = 'ory_pat_Zq8sEcReTvAlUe4711'
VAULT_SECRETS = [('prod', VaultSecret(b'pw'))]


class SelfStr(str):
    """ansible-core 2.18's AnsibleUnsafeText: str() returns the subclass itself, which yaml.safe_dump refuses."""

    def __str__(self):  # pylint: disable=invalid-str-returned
        return self


def make(tmp_path, args, module_result, register='r', cls=ProjectKeyAction):
    task = MagicMock()
    task.args = dict(args)
    task.register = register
    task.check_mode = False
    task.diff = False
    task.async_val = 0
    task.environment = [{'HTTPS_PROXY': 'http://proxy.test:3128'}]
    connection = MagicMock()
    connection._shell.tmpdir = None
    connection._shell.env_prefix = lambda **env: ' '.join('%s=%s' % item for item in sorted(env.items()))
    loader = DataLoader()
    loader.set_basedir(str(tmp_path))
    loader.set_vault_secrets(VAULT_SECRETS)
    templar = MagicMock()
    templar.template = lambda value, **kwargs: value
    action = cls(task, connection, MagicMock(), loader, templar, None)
    action._execute_module = MagicMock(return_value=dict(module_result))
    action._remove_tmp_path = MagicMock()
    monkey = pytest.MonkeyPatch()
    monkey.setattr(_secret_action, 'VaultSecretsContext', None)
    return action, monkey


def created(secret):
    return {'changed': True, 'value': secret, 'api_key': {'id': 'key-1', 'name': 'ci', 'expires_at': None, 'last_characters': '4711'}}


def test_unsafe_text_secret_is_stored_not_printed(tmp_path):
    """The 2.18 failure: the secret as a str subclass. It is stored and never appears in the result."""
    dest = str(tmp_path / 'ci.yml')
    action, monkey = make(tmp_path, {'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'}, created(SelfStr(SECRET)))
    with monkey.context():
        result = action.run(task_vars={})
    assert not result.get('failed'), result.get('msg')
    assert SECRET not in repr(result)
    with open(dest, 'rb') as handle:
        assert yaml.safe_load(VaultLib(VAULT_SECRETS).decrypt(handle.read()))['ci_key'] == SECRET


@pytest.mark.parametrize('where', ['safe_dump', 'encrypt', 'key_meta'])
def test_anything_raised_after_the_create_names_key_and_type_only(tmp_path, monkeypatch, where):
    dest = str(tmp_path / 'ci.yml')

    def explode(*args, **kwargs):
        raise RuntimeError('cannot represent an object', SECRET, args, kwargs)

    if where == 'safe_dump':
        monkeypatch.setattr(_vault_store.yaml, 'safe_dump', explode)
    elif where == 'encrypt':
        monkeypatch.setattr(_vault_store.VaultLib, 'encrypt', explode)
    else:
        monkeypatch.setattr(ProjectKeyAction, 'key_meta', explode)
    action, monkey = make(tmp_path, {'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'}, created(SECRET))
    with monkey.context():
        result = action.run(task_vars={})
    assert result['failed'] is True
    assert result['changed'] is True
    assert 'key-1' in result['msg'] and 'RuntimeError' in result['msg']
    assert 'cannot represent' not in result['msg']
    assert 'next run repairs it' in result['msg']
    assert SECRET not in repr(result)
    assert not os.path.exists(dest)


def test_exception_before_the_module_ran_names_its_type_only(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise ValueError('template error in %s' % SECRET)

    monkeypatch.setattr(ProjectKeyAction, 'loaded_vault_secrets', explode)
    action, monkey = make(tmp_path, {'name': 'ci', 'workspace_api_key': SECRET}, created(SECRET))
    with monkey.context():
        result = action.run(task_vars={})
    assert result['failed'] is True
    assert 'ValueError' in result['msg'] and SECRET not in repr(result)
    assert not action._execute_module.called


def test_exception_from_the_module_run_names_its_type_only(tmp_path):
    action, monkey = make(tmp_path, {'name': 'ci'}, created(SECRET), cls=IssuedKeyAction)
    action._execute_module.side_effect = KeyError(SECRET)
    with monkey.context():
        result = action.run(task_vars={})
    assert result == {'failed': True, 'changed': False, 'msg': result['msg']}
    assert 'KeyError' in result['msg'] and SECRET not in result['msg']


@pytest.mark.parametrize('register, sink', [('r', 'result'), (None, 'none')])
def test_secret_sink_reaches_the_module_environment_not_its_arguments(tmp_path, register, sink):
    action, monkey = make(tmp_path, {'name': 'ci'}, {'changed': False}, register=register)
    with monkey.context():
        action.run(task_vars={})
    assert 'secret_sink' not in action._execute_module.call_args.kwargs['module_args']
    env = {}
    prefix = action._compute_environment_string(env)
    assert env == {'HTTPS_PROXY': 'http://proxy.test:3128', SECRET_SINK_ENV: sink}
    assert '%s=%s' % (SECRET_SINK_ENV, sink) in prefix
    assert secret_sink(env) == sink


def test_module_side_reads_only_none_as_refusal():
    assert secret_sink({}) == 'result'
    assert secret_sink({SECRET_SINK_ENV: 'none'}) == 'none'
    assert secret_sink({SECRET_SINK_ENV: wrap_var('bogus')}) == 'result'
