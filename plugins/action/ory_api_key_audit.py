# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ory.network.ory_api_key_audit: reads the environment's vault file on the controller.

Only the metadata of each stored secret (variable, key id, name, expiry, and the ``previous`` key a replacement keeps
live in its grace period) goes to the module, and the project API key
named by project_api_key_var (a no_log module option). The audit itself is read-only and check-mode safe.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.ory.network.plugins.module_utils._planner import previous_of
from ansible_collections.ory.network.plugins.plugin_utils._secret_action import SecretActionBase
from ansible_collections.ory.network.plugins.plugin_utils._vault_store import META_SUFFIX, VaultStoreError, read_vars


def stored_secrets(data):
    """[{var, key_id, name, expires_at}] of every ``<var>_meta`` entry whose ``<var>`` holds a value, sorted by variable.

    An entry whose metadata records a ``previous`` key (kept live in its grace period) also has ``previous``: its id,
    name, replaced_at, retire_after and retire_when_used (never a secret)."""
    out = []
    for name in sorted(str(n) for n in data):
        meta = data.get(name)
        if not name.endswith(META_SUFFIX) or not isinstance(meta, dict) or not meta.get('key_id'):
            continue
        var = name[:-len(META_SUFFIX)]
        if not data.get(var):
            continue
        entry = {'var': var, 'key_id': str(meta.get('key_id')), 'name': meta.get('name'),
                 'expires_at': None if meta.get('expires_at') is None else str(meta.get('expires_at'))}
        previous = previous_of(meta)
        if previous:
            entry['previous'] = dict((field, None if value is None else value if isinstance(value, bool) else str(value))
                                     for field, value in previous.items())
        out.append(entry)
    return out


class ActionModule(ActionBase):
    """Borrows the vault plumbing of the secret actions: the run's vault secrets and path resolution."""

    MODULE = 'ory.network.ory_api_key_audit'
    _supports_check_mode = True
    _supports_async = False

    loaded_vault_secrets = SecretActionBase.loaded_vault_secrets
    _vault_path = SecretActionBase._vault_path

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        module_args = dict(self._task.args)
        module_args.pop('stored_secrets', None)
        vault_file = module_args.get('vault_file')
        if vault_file:
            path = self._vault_path(vault_file)
            try:
                data = read_vars(path, self.loaded_vault_secrets())
            except VaultStoreError as exc:
                result.update(failed=True, msg='vault_file: %s' % exc)
                return result
            module_args['vault_file'] = path
            module_args['stored_secrets'] = stored_secrets(data)
            key_var = module_args.get('project_api_key_var')
            if key_var and isinstance(data.get(key_var), str) and data.get(key_var):
                module_args['project_api_key'] = data[key_var]
        try:
            result.update(self._execute_module(module_name=self.MODULE, module_args=module_args, task_vars=task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
