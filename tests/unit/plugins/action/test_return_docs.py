# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's RETURN matches what a task really returns: the module's own output against the emulator, and for the
key modules the result after their action plugin (vault_dest, retire) too. Every key of a result is documented, and every
key documented as ``returned: always`` is there."""
from __future__ import annotations

import os
from unittest.mock import MagicMock

import pytest
import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret

from ansible_collections.ory.network.plugins.action.ory_api_key_report import ActionModule as ReportAction
from ansible_collections.ory.network.plugins.action.ory_issued_api_key import ActionModule as IssuedKeyAction
from ansible_collections.ory.network.plugins.action.ory_project_api_key import ActionModule as ProjectKeyAction
from ansible_collections.ory.network.plugins.module_utils._options import SECRET_SINK_ENV
from ansible_collections.ory.network.plugins.modules import (
    ory_api_key_audit, ory_api_key_bootstrap, ory_api_key_report, ory_api_key_verify, ory_imported_api_key,
    ory_imported_api_key_info, ory_issued_api_key, ory_issued_api_key_info, ory_project_api_key, ory_project_api_key_info,
    ory_workspace_api_key_info,
)
from ansible_collections.ory.network.plugins.plugin_utils._bootstrap import Engine
from ansible_collections.ory.network.plugins.plugin_utils import _secret_action
from ansible_collections.ory.network.tests.unit.conftest import check_return_doc, in_days

MODULES_DIR = os.path.dirname(ory_project_api_key.__file__)  # (a controller test: it runs the action plugins too)
# The modules whose real results the tests below check (test_every_module_is_covered keeps this list complete).
COVERED = (ory_project_api_key_info, ory_workspace_api_key_info, ory_issued_api_key_info, ory_api_key_verify, ory_project_api_key,
           ory_issued_api_key, ory_imported_api_key, ory_imported_api_key_info, ory_api_key_audit, ory_api_key_bootstrap,
           ory_api_key_report)


def checked(module, result):
    assert module in COVERED
    check_return_doc(module, result)
    return result


def ok(run_main, module, args, check=False, diff=False):
    result, code = run_main(module, args, check=check, diff=diff)
    assert code == 0, result.get('msg')
    return checked(module, result)


def test_info_modules(ory, run_main):
    ory.add_project_key('ci', expires_at=in_days(30))
    ory.add_workspace_key('ops', expires_at=in_days(10))
    ory.issue(name='billing', actor_id='svc', scopes=['a'], metadata={'team': 'x'},
              rate_limit_policy={'quota': 10, 'window': '60s'}, ip_restriction={'allowed_cidrs': ['10.0.0.0/8']})
    for module, args in ((ory_project_api_key_info, ory.console_args(project_id=ory.project_id)),
                         (ory_workspace_api_key_info, ory.console_args(workspace_id=ory.workspace_id)),
                         (ory_issued_api_key_info, ory.talos_args())):
        result = ok(run_main, module, args)
        assert result['api_keys']
        ok(run_main, module, dict(args, name='no-such-key'))


def test_verify(ory, run_main):
    dummy, secret = ory.issue(name='v', scopes=['a'])
    assert ok(run_main, ory_api_key_verify, ory.talos_args(credential=secret))['is_valid'] is True
    assert ok(run_main, ory_api_key_verify, ory.talos_args(credential=secret[:-3] + 'abc'))['is_valid'] is False


def test_project_key_module(ory, run_main, monkeypatch):
    args = ory.console_args(project_id=ory.project_id, name='ci')
    ok(run_main, ory_project_api_key, args, check=True, diff=True)
    created = ok(run_main, ory_project_api_key, dict(args, expires_in='1d'), diff=True)
    assert created['value']
    ok(run_main, ory_project_api_key, args)
    replaced = ok(run_main, ory_project_api_key, dict(args, expires_in='1d', recreate='always'))
    assert replaced['old_key_id']
    ok(run_main, ory_project_api_key, dict(args, state='absent'), diff=True)
    ok(run_main, ory_project_api_key, dict(args, state='absent'))


def test_issued_key_module(ory, run_main):
    args = ory.talos_args(name='billing', ttl='1h', scopes=['a'])
    ok(run_main, ory_issued_api_key, args, check=True, diff=True)
    assert ok(run_main, ory_issued_api_key, args, diff=True)['secret']
    ok(run_main, ory_issued_api_key, args)
    assert ok(run_main, ory_issued_api_key, dict(args, rotate='always'))['secret']
    ok(run_main, ory_issued_api_key, dict(args, state='absent'), diff=True)
    ok(run_main, ory_issued_api_key, dict(args, state='absent'))


VAULT_SECRETS = [('default', VaultSecret(b'return docs'))]


def action_for(cls, module, args, run_main, monkeypatch, tmp_path, register='r'):
    """The key module's action plugin, whose module runs are real main() runs against the emulator."""
    task = MagicMock()
    task.args = dict(args)
    task.register = register
    task.check_mode = False
    task.diff = False
    task.async_val = 0
    connection = MagicMock()
    connection._shell.tmpdir = None
    loader = DataLoader()
    loader.set_basedir(str(tmp_path))
    loader.set_vault_secrets(VAULT_SECRETS)
    action = cls(task, connection, MagicMock(), loader, None, None)
    monkeypatch.setattr(_secret_action, 'VaultSecretsContext', None)

    def execute(module_name=None, module_args=None, task_vars=None):
        assert module_name == cls.MODULE
        monkeypatch.setenv(SECRET_SINK_ENV, action._secret_sink)
        result, dummy = run_main(module, module_args)
        checked(module, result)
        return result

    action._execute_module = execute
    action._remove_tmp_path = MagicMock()
    return action


@pytest.mark.parametrize('cls, module, own, replace', [
    (ProjectKeyAction, ory_project_api_key, dict(name='ci', expires_in='1d'), dict(recreate='always')),
    (IssuedKeyAction, ory_issued_api_key, dict(name='billing', ttl='1h'), dict(rotate='always')),
])
def test_results_after_the_action_plugin(ory, run_main, monkeypatch, tmp_path, cls, module, own, replace):
    args = dict(ory.console_args(project_id=ory.project_id) if module is ory_project_api_key else ory.talos_args(), **own)
    args.update(vault_dest=str(tmp_path / 'vault.yml'), vault_var='the_key')
    for task_args in (args, args, dict(args, **replace)):
        result = action_for(cls, module, task_args, run_main, monkeypatch, tmp_path).run(task_vars={})
        assert not result.get('failed'), result.get('msg')
        check_return_doc(module, {k: v for k, v in result.items() if not k.startswith('_ansible_')})
    assert result['vault']['changed'] is True and result['old_key_retired'] is True


def test_imported_and_audit_modules(ory, run_main):
    args = ory.connection(raw_key='legacy-return-docs-0123456789', name='legacy', actor_id='svc', scopes=['a'])
    ok(run_main, ory_imported_api_key, args, check=True)
    ok(run_main, ory_imported_api_key, args)
    ok(run_main, ory_imported_api_key, args)
    bulk = dict(ory.connection(), keys=[dict(raw_key='legacy-return-docs-bulk-0123456789', name='bulk', actor_id='svc')])
    ok(run_main, ory_imported_api_key, bulk)
    assert ok(run_main, ory_imported_api_key_info, ory.connection())['api_keys']
    ory.add_project_key('ci', expires_at=in_days(3))
    ory.issue(name='billing', actor_id='svc')
    audit = ok(run_main, ory_api_key_audit, ory.connection(environment='ci'))
    assert audit['audit']['api_keys']


def test_bootstrap_engine(ory, tmp_path):
    """The engine's result (what the action ory_api_key_bootstrap returns): check mode, first run, rerun."""
    params = dict(ory.connection(), environment='ci', name_prefix=None, project_api_keys=[dict(name='talos', expires_in='30d')],
                  issued_api_keys=[dict(name='billing', actor_id='svc', ttl='30d')], imported_api_keys=[], talos_key='talos',
                  vault_dest=None, vault_id=None, on_missing_secret='rotate', verify='stored', prune=False)
    for check_mode, changed in ((True, True), (False, True), (False, False)):
        result = Engine(params, str(tmp_path / 'vault.yml'), VAULT_SECRETS, check_mode=check_mode).run()
        assert result['changed'] is changed
        checked(ory_api_key_bootstrap, result)


def test_report_action(ory, run_main, tmp_path):
    ory.add_project_key('ci', expires_at=in_days(3))
    ory.issue(name='billing', actor_id='svc')
    audit = ok(run_main, ory_api_key_audit, ory.connection(environment='ci'))['audit']
    task = MagicMock()
    task.args = dict(audits=[audit], dest=str(tmp_path))
    task.check_mode = False
    task.async_val = 0
    loader = DataLoader()
    loader.set_basedir(str(tmp_path))
    action = ReportAction(task, MagicMock(), MagicMock(), loader, None, None)
    result = action.run(task_vars={})
    assert not result.get('failed'), result.get('msg')
    checked(ory_api_key_report, {k: v for k, v in result.items() if not k.startswith('_ansible_')})


def test_every_module_is_covered():
    """Every module of the collection has its results checked by a test of this file."""
    modules = {name[:-3] for name in os.listdir(MODULES_DIR) if name.endswith('.py') and not name.startswith('_')}
    covered = {module.__name__.rsplit('.', 1)[-1] for module in COVERED}
    assert modules == covered, 'no RETURN check for %s' % sorted(modules - covered)


def test_secret_sink_is_no_user_option():
    """secret_sink is a channel between action plugin and module (its environment), not an option a user sets."""
    from ansible_collections.ory.network.plugins.doc_fragments.secret import ModuleDocFragment
    assert 'secret_sink' not in yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    for module in (ory_project_api_key, ory_issued_api_key):
        assert 'secret_sink' not in module.argument_spec()
        assert 'secret_sink' not in (yaml.safe_load(module.DOCUMENTATION).get('options') or {})


def test_previous_key_is_documented_as_the_vault_record():
    """RV(previous_key) holds the vault metadata's previous record (the planner's PREVIOUS_FIELDS) plus state and reason; the
    grace period's results themselves are checked against RETURN in test_grace_modules.py."""
    from ansible_collections.ory.network.plugins.module_utils._planner import PREVIOUS_FIELDS
    for module in (ory_project_api_key, ory_issued_api_key):
        documented = yaml.safe_load(module.RETURN)['previous_key']['contains']
        assert sorted(documented) == sorted(PREVIOUS_FIELDS + ('state', 'reason'))
        assert documented['state']['choices'] == ['waiting', 'retired', 'gone']
