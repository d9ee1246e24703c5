# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ory.network.ory_imported_api_key: reads a bulk import's keys from an Ansible Vault file.

The keys (from ``keys_file`` or ``keys``) reach the module as one ``no_log`` string, ``keys_payload``: Ansible then
masks one value in the result instead of thousands of raw keys, each compared against every string of the result.
"""

from __future__ import annotations

import json

from ansible.plugins.action import ActionBase

from ansible_collections.ory.network.plugins.plugin_utils._secret_action import SecretActionBase
from ansible_collections.ory.network.plugins.plugin_utils._vault_store import VaultStoreError, _plain, read_vars


class ActionModule(ActionBase):
    """Creates no secret: it borrows only the vault plumbing of the secret actions (the run's vault secrets, path resolution)."""

    MODULE = 'ory.network.ory_imported_api_key'
    _supports_check_mode = True
    _supports_async = False

    loaded_vault_secrets = SecretActionBase.loaded_vault_secrets
    _vault_path = SecretActionBase._vault_path

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        module_args = dict(self._task.args)
        keys_file = module_args.pop('keys_file', None)
        keys_var = module_args.pop('keys_var', None) or 'legacy_api_keys'
        keys = module_args.pop('keys', None)
        if keys_file and keys is not None:
            result.update(failed=True, msg='keys and keys_file are mutually exclusive: give the keys in one of them.')
            return result
        if keys_file:
            if not isinstance(keys_file, str):
                result.update(failed=True, msg='keys_file must be a path.')
                return result
            path = self._vault_path(keys_file)
            try:
                data = read_vars(path, self.loaded_vault_secrets())
            except VaultStoreError as exc:
                result.update(failed=True, msg='keys_file: %s' % exc)
                return result
            if not data:
                result.update(failed=True, msg='keys_file: Vault file %s does not exist or holds no variables.' % path)
                return result
            keys = data.get(keys_var)
            if not isinstance(keys, list):
                result.update(failed=True, msg='keys_file: the variable %s in %s must be a list of keys (raw_key, name, actor_id, ...).'
                              % (keys_var, path))
                return result
        if keys is not None:
            if not isinstance(keys, list):
                result.update(failed=True, msg='keys must be a list of keys (raw_key, name, actor_id, ...).')
                return result
            module_args['keys_payload'] = json.dumps(_plain(keys))
        try:
            result.update(self._execute_module(module_name=self.MODULE, module_args=module_args, task_vars=task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
