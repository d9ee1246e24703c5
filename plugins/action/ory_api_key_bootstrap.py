# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ory.network.ory_api_key_bootstrap: the bootstrap engine of one environment, on the controller.

It has the run's vault secrets (to read and write the environment's vault file) and calls Ory Network with the
collection's one client. Everything it decides comes from the planner; see plugin_utils/_bootstrap.py.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import env_fallback
from ansible.utils.display import Display

from ansible_collections.ory.network.plugins.module_utils._client import redact
from ansible_collections.ory.network.plugins.module_utils._options import connection_argument_spec
from ansible_collections.ory.network.plugins.plugin_utils._bootstrap import Engine, EngineError, safe_message
from ansible_collections.ory.network.plugins.plugin_utils._secret_action import SecretActionBase

display = Display()


def argument_spec():
    """The engine's options (the module documentation in plugins/modules/ory_api_key_bootstrap.py matches it)."""
    return connection_argument_spec(
        environment=dict(type='str', required=True),
        project_id=dict(type='str', fallback=(env_fallback, ['ORY_PROJECT_ID'])),
        name_prefix=dict(type='str'),
        project_api_keys=dict(type='list', elements='dict', default=[]),
        issued_api_keys=dict(type='list', elements='dict', default=[]),
        imported_api_keys=dict(type='list', elements='dict', default=[], no_log=True),
        talos_key=dict(type='str'),
        vault_dest=dict(type='str'),
        vault_id=dict(type='str'),
        on_missing_secret=dict(type='str', default='rotate', choices=['rotate', 'fail']),
        verify=dict(type='raw', default='stored'),
        prune=dict(type='bool', default=False),
        retire_after=dict(type='str'),
        retire_previous=dict(type='bool', default=False),
        retire_when_used=dict(type='bool', default=False),
    )


class ActionModule(SecretActionBase):
    """Read each plane once, plan, change, store the new secrets, verify: one task for a whole environment."""

    _supports_check_mode = True
    _supports_async = False

    def _vault_file(self, params, task_vars):
        dest = params.get('vault_dest')
        if dest:
            path = os.path.expandvars(os.path.expanduser(str(dest)))
            if not os.path.isabs(path):
                path = os.path.join(str(task_vars.get('playbook_dir') or self._loader.get_basedir()), path)
            return os.path.normpath(path)
        inventory_dir = task_vars.get('inventory_dir')
        if not inventory_dir:
            raise EngineError('Environment %s: vault_dest is required when the host does not come from an inventory file.'
                              % params['environment'])
        return os.path.join(str(inventory_dir), 'group_vars', params['environment'], 'vault.yml')

    def run(self, tmp=None, task_vars=None):
        result = super(SecretActionBase, self).run(tmp, task_vars)  # pylint: disable=bad-super-call
        del tmp
        task_vars = task_vars or {}
        try:
            dummy, params = self.validate_argument_spec(argument_spec=argument_spec())
        except AnsibleActionFail as exc:
            result.update(failed=True, msg=redact(str(exc)))
            return result
        host = task_vars.get('inventory_hostname') or params['environment']
        engine = None
        try:
            engine = Engine(params, self._vault_file(params, task_vars), self.loaded_vault_secrets(),
                            check_mode=bool(self._task.check_mode), report=lambda line: display.display('%s: %s' % (host, line)),
                            progress=lambda line: display.v('%s: %s' % (host, line)))
            result.update(engine.run())
        except Exception as exc:  # pylint: disable=broad-except
            # Every failure is one sentence without a secret; the keys changed so far are still reported.
            result.update(failed=True, msg=safe_message(exc))
            if engine is not None:
                result.update(changed=any(r['action'] not in ('none', 'fail') for r in engine.rows), api_keys=engine.rows,
                              summary=engine.summary(), requests=engine.requests)
                if engine.rate_limit():
                    result['rate_limit'] = engine.rate_limit()
        return result
