# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Identifiers given as null or '' are refused by the action plugins before the module runs."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible.parsing.dataloader import DataLoader

from ansible_collections.ory.network.plugins.action.ory_issued_api_key import ActionModule as IssuedAction
from ansible_collections.ory.network.plugins.action.ory_project_api_key import ActionModule as ProjectAction
from ansible_collections.ory.network.plugins.module_utils._options import STORED_KEY_ENV
from ansible_collections.ory.network.plugins.plugin_utils import _secret_action


@pytest.mark.parametrize('cls, args, option', [
    (IssuedAction, {'key_id': None, 'reveal_secret': True}, 'key_id'),
    (IssuedAction, {'name': None, 'reveal_secret': True}, 'name'),
    (IssuedAction, {'name': 'ci', 'actor_id': '', 'reveal_secret': True}, 'actor_id'),
    (ProjectAction, {'id': None, 'name': 'ci', 'reveal_secret': True}, 'id'),
    (ProjectAction, {'name': '  ', 'reveal_secret': True}, 'name'),
])
def test_null_identifiers_are_refused_before_the_module_runs(tmp_path, monkeypatch, cls, args, option):
    """``key_id: "{{ none }}"`` reaches the action as None: it must not mean "no key_id" (a new nameless key every run)."""
    result = run_action(tmp_path, monkeypatch, cls, args)
    assert result['failed'] is True
    assert result['msg'].startswith('%s is set but empty' % option), result['msg']


def test_null_key_id_in_check_mode_says_why(tmp_path, monkeypatch):
    """The EXAMPLES chain a registered key_id into the next task: in check mode it is null, and the message says so."""
    result = run_action(tmp_path, monkeypatch, IssuedAction, {'key_id': None, 'metadata': {'a': 'b'}}, check_mode=True)
    assert result['failed'] is True and 'in check mode, a key that is only about to be created has no id yet' in result['msg']


def run_action(tmp_path, monkeypatch, cls, args, check_mode=False):
    monkeypatch.setattr(_secret_action, 'VaultSecretsContext', None)
    task = mock.MagicMock()
    task.args = dict(args)
    task.register = None
    task.check_mode = check_mode
    task.async_val = 0
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    loader = DataLoader()
    loader.set_basedir(str(tmp_path))
    action = cls(task, connection, mock.MagicMock(), loader, None, None)
    action._execute_module = mock.MagicMock(side_effect=AssertionError('the module must not run'))
    return action.run(task_vars={})


def test_the_stored_key_id_is_passed_to_the_module(tmp_path, monkeypatch):
    """With vault_dest, the module learns which key's secret is stored (to finish a half-done replacement)."""
    from ansible.parsing.vault import VaultSecret  # pylint: disable=import-outside-toplevel
    from ansible_collections.ory.network.plugins.plugin_utils import _vault_store  # pylint: disable=import-outside-toplevel
    monkeypatch.setattr(_secret_action, 'VaultSecretsContext', None)
    secrets = [('default', VaultSecret(b'pw'))]
    dest = str(tmp_path / 'vault.yml')
    _vault_store.store_secret(dest, 'ci_key', 'stored-secret', {'key_id': 'k-9'}, secrets)
    calls = []

    def module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append(dict(module_args))
        return {'changed': False, 'api_key': {'id': 'k-9'}}

    for args, expected in (({'name': 'ci', 'vault_dest': dest, 'vault_var': 'ci_key'}, 'k-9'),
                           ({'name': 'ci', 'vault_dest': dest, 'vault_var': 'other'}, ''),
                           ({'name': 'ci'}, None)):
        task = mock.MagicMock()
        task.args = dict(args)
        task.register = None
        task.check_mode = False
        task.async_val = 0
        connection = mock.MagicMock()
        connection._shell.tmpdir = None
        loader = DataLoader()
        loader.set_basedir(str(tmp_path))
        loader.set_vault_secrets(secrets)
        action = ProjectAction(task, connection, mock.MagicMock(), loader, None, None)
        action._execute_module = module
        action._remove_tmp_path = mock.MagicMock()
        action.run(task_vars={})
        # an internal channel through the module's environment, never a task argument a user could forge
        assert 'stored_key_id' not in calls[-1]
        environment = {}
        action._compute_environment_string(environment)
        assert environment.get(STORED_KEY_ENV) == expected
