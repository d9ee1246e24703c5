# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 12 in the key modules: with vault_dest, a replaced key stays live as the vault variable's ``previous`` key
(retire_after, retire_previous, and for issued keys retire_when_used), through the action plugins and the modules' real
main() against the emulator in this process. Time is moved with the emulator's clock (the Date of its answers)."""
from __future__ import annotations

import json
from unittest.mock import MagicMock

import pytest
import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret

from ansible_collections.ory.network.plugins.action.ory_issued_api_key import ActionModule as IssuedKeyAction
from ansible_collections.ory.network.plugins.action.ory_project_api_key import ActionModule as ProjectKeyAction
from ansible_collections.ory.network.plugins.module_utils._options import PREVIOUS_KEY_ENV, SECRET_SINK_ENV, STORED_KEY_ENV
from ansible_collections.ory.network.plugins.modules import ory_issued_api_key, ory_project_api_key
from ansible_collections.ory.network.plugins.plugin_utils import _secret_action
from ansible_collections.ory.network.plugins.plugin_utils._vault_store import VaultFile
from ansible_collections.ory.network.tests.unit.conftest import SECRET_RE, check_return_doc, in_days

VAULT_SECRETS = [('default', VaultSecret(b'grace-modules-test'))]
HOUR = 3600
VAR = 'the_key'
CHANNELS = (SECRET_SINK_ENV, STORED_KEY_ENV, PREVIOUS_KEY_ENV)


class Runner:
    """Runs a key module task through its action plugin; the module's runs are real main() runs against the emulator, with the
    environment the action plugin computes for them (its internal channels)."""

    def __init__(self, ory, run_main, monkeypatch, tmp_path, cls, module):
        self.ory, self.run_main, self.monkeypatch, self.tmp_path = ory, run_main, monkeypatch, tmp_path
        self.cls, self.module = cls, module
        self.dest = str(tmp_path / 'vault.yml')
        self.module_runs = []
        monkeypatch.setattr(_secret_action, 'VaultSecretsContext', None)

    def __call__(self, args, check=False, vault=True, register='r'):
        task = MagicMock()
        task.args = dict(args, vault_dest=self.dest, vault_var=VAR) if vault else dict(args)
        task.register = register
        task.check_mode = check
        task.diff = False
        task.async_val = 0
        task.environment = None
        connection = MagicMock()
        connection._shell.tmpdir = None
        loader = DataLoader()
        loader.set_basedir(str(self.tmp_path))
        loader.set_vault_secrets(VAULT_SECRETS)
        action = self.cls(task, connection, MagicMock(), loader, None, None)

        def execute(module_name=None, module_args=None, task_vars=None):
            assert module_name == self.cls.MODULE
            environment = {}
            action._compute_environment_string(environment)
            for name in CHANNELS:
                if name in environment:
                    self.monkeypatch.setenv(name, str(environment[name]))
                else:
                    self.monkeypatch.delenv(name, raising=False)
            result, dummy = self.run_main(self.module, module_args, check=check)
            if not result.get('failed'):
                check_return_doc(self.module, result)
            self.module_runs.append(result)
            return result

        action._execute_module = execute
        action._remove_tmp_path = MagicMock()
        self.ory.forget_calls()
        result = action.run(task_vars={})
        shown = {k: v for k, v in result.items() if not k.startswith('_ansible_') and k not in ('value', 'secret')}
        found = SECRET_RE.search(json.dumps(shown, default=str))
        assert not found, 'a secret in the task result: %s' % found.group(0)[:12]
        if not result.get('failed'):
            check_return_doc(self.module, shown)
        return result

    def vault(self):
        vault = VaultFile(self.dest, VAULT_SECRETS, check_mode=True).open()
        try:
            return dict(vault.data)
        finally:
            vault.close()

    def raw(self):
        with open(self.dest, 'rb') as handle:
            return handle.read()

    def meta(self):
        return self.vault()[VAR + '_meta']


def later(ory, seconds):
    ory.state.data['clock_offset'] = int(ory.state.data.get('clock_offset', 0)) + int(seconds)


@pytest.fixture
def project(ory, run_main, monkeypatch, tmp_path):
    return Runner(ory, run_main, monkeypatch, tmp_path, ProjectKeyAction, ory_project_api_key)


@pytest.fixture
def issued(ory, run_main, monkeypatch, tmp_path):
    return Runner(ory, run_main, monkeypatch, tmp_path, IssuedKeyAction, ory_issued_api_key)


def project_args(ory, days, **extra):
    """The task: the key expires in ``days`` (one timestamp per test: a second that passes between two runs changes nothing)."""
    expires_at = ory.__dict__.setdefault('grace_stamps', {}).setdefault(days, in_days(days))
    return dict(ory.console_args(project_id=ory.project_id), name='ci', expires_at=expires_at, recreate='on_change', **extra)


def live_ids(ory):
    return sorted(k['id'] for k in ory.project_keys('ci'))


def replaced_project_key(ory, project, **grace):
    """A stored project key, then a replacement (expires_at changed) with the grace options: (old id, new id, result)."""
    first = project(project_args(ory, 60))
    assert first['changed'] is True and not first.get('failed'), first.get('msg')
    old = first['api_key']['id']
    result = project(project_args(ory, 90, **grace))
    assert not result.get('failed'), result.get('msg')
    return old, result['api_key']['id'], result


def test_project_replacement_with_retire_after_keeps_the_old_key_live_then_retires_it(ory, project):
    old, new, result = replaced_project_key(ory, project, retire_after='24h')
    assert result['old_key_id'] == old and result['old_key_retired'] is False
    assert result['previous_key']['key_id'] == old and result['previous_key']['state'] == 'waiting'
    assert live_ids(ory) == sorted([old, new])
    meta = project.meta()
    assert meta['key_id'] == new
    assert meta['previous']['key_id'] == old and meta['previous']['name'] == 'ci'
    assert meta['previous']['retire_after'] and meta['previous']['replaced_at'] and meta['previous']['retire_when_used'] is False
    assert old not in json.dumps(project.vault()[VAR])

    # a rerun with nothing due: no write to the API or the vault file, the previous key is not a leftover nor a second match
    raw = project.raw()
    again = project(project_args(ory, 90, retire_after='24h'))
    assert again['changed'] is False and not again.get('failed'), again.get('msg')
    assert again['previous_key']['state'] == 'waiting' and 'until' in again['previous_key']['reason']
    assert ory.writes() == [] and project.raw() == raw and live_ids(ory) == sorted([old, new])

    # check mode after the grace period: says what would happen, writes nothing
    later(ory, 25 * HOUR)
    predicted = project(project_args(ory, 90, retire_after='24h'), check=True)
    assert predicted['changed'] is True and predicted['previous_key']['state'] == 'retired'
    assert predicted['vault']['changed'] is True
    assert ory.writes() == [] and project.raw() == raw and live_ids(ory) == sorted([old, new])

    secret = project.vault()[VAR]
    done = project(project_args(ory, 90, retire_after='24h'))
    assert done['changed'] is True and done['previous_key']['state'] == 'retired', done
    assert 'grace period ended' in done['previous_key']['reason'] and done['retired_key_ids'] == [old]
    assert live_ids(ory) == [new]
    # the record is dropped; the stored secret and its metadata stay as they were
    assert 'previous' not in project.meta() and project.vault()[VAR] == secret
    assert project.meta()['key_id'] == new and project.meta()['name'] == 'ci' and project.meta()['expires_at']

    raw = project.raw()
    settled = project(project_args(ory, 90, retire_after='24h'))
    assert settled['changed'] is False and 'previous_key' not in settled and ory.writes() == [] and project.raw() == raw


def test_check_mode_replacement_reports_the_kept_key(ory, project):
    first = project(project_args(ory, 60))
    raw = project.raw()
    predicted = project(project_args(ory, 90, retire_after='24h'), check=True)
    assert predicted['changed'] is True and predicted['previous_key']['state'] == 'waiting'
    assert predicted['previous_key']['key_id'] == first['api_key']['id'] and predicted['old_key_retired'] is False
    assert ory.writes() == [] and project.raw() == raw


def test_retire_previous_retires_only_a_key_that_was_previous_before_the_run(ory, project):
    old, new, result = replaced_project_key(ory, project, retire_after='24h', retire_previous=True)
    # replaced in this very run: it still waits
    assert result['previous_key']['state'] == 'waiting' and live_ids(ory) == sorted([old, new])
    done = project(project_args(ory, 90, retire_previous=True))
    assert done['changed'] is True and done['previous_key']['state'] == 'retired'
    assert done['previous_key']['reason'] == 'previous key, retired by retire_previous'
    assert live_ids(ory) == [new] and 'previous' not in project.meta()


def test_a_replacement_due_while_the_previous_key_waits_is_deferred(ory, project):
    old, new, dummy = replaced_project_key(ory, project, retire_after='24h')
    deferred = project(project_args(ory, 120, retire_after='24h'))
    assert deferred['changed'] is False and not ory.writes(), 'replacing now would retire the key services may still use'
    assert deferred['api_key']['id'] == new and 'retired_key_ids' not in deferred
    assert deferred['deferred'].startswith('due for replacement (on_change); waits while its previous key %s' % old)
    assert live_ids(ory) == sorted([old, new]) and project.meta()['previous']['key_id'] == old
    # the deploy is done: retire_previous retires the old key and the replacement goes ahead, with a grace period of its own
    third = project(project_args(ory, 120, retire_after='24h', retire_previous=True))
    newest = third['api_key']['id']
    assert third['retired_key_ids'] == [old] and 'deferred' not in third
    assert third['previous_key']['key_id'] == new and third['previous_key']['state'] == 'waiting'
    assert live_ids(ory) == sorted([new, newest])
    assert project.meta()['previous']['key_id'] == new and project.meta()['key_id'] == newest


def test_without_a_grace_period_the_replaced_key_is_retired_in_the_same_run(ory, project):
    old, new, result = replaced_project_key(ory, project, retire_after='0')
    assert result['old_key_retired'] is True and 'previous_key' not in result
    assert live_ids(ory) == [new] and 'previous' not in project.meta()


def test_a_lost_secret_is_never_kept_as_previous(ory, project):
    stranger = ory.add_project_key('ci', expires_at=in_days(30))
    result = project(project_args(ory, 60, retire_after='24h'))
    assert not result.get('failed'), result.get('msg')
    assert result['old_key_id'] == stranger['id'] and result['old_key_retired'] is True and 'previous_key' not in result
    assert live_ids(ory) == [result['api_key']['id']] and 'previous' not in project.meta()


def test_the_record_is_dropped_when_the_previous_key_is_gone(ory, project):
    old, new, dummy = replaced_project_key(ory, project, retire_after='24h')
    status, dummy = ory.call('DELETE', '/projects/%s/tokens/%s' % (ory.project_id, old), token=ory.workspace_api_key)
    assert status in (200, 204)
    result = project(project_args(ory, 90, retire_after='24h'))
    assert result['previous_key']['state'] == 'gone' and result['vault']['changed'] is True
    assert 'previous' not in project.meta() and ory.writes() == []


@pytest.mark.parametrize('option, value', [('retire_after', '24h'), ('retire_previous', True)])
def test_grace_options_are_refused_without_vault_dest(ory, project, option, value):
    result = project(project_args(ory, 60, **{option: value}), vault=False)
    assert result['failed'] is True and result['msg'].startswith('%s needs vault_dest' % option)
    assert ory.calls == [] and project.module_runs == []


def test_retire_after_is_checked_by_the_module(ory, project):
    result = project(project_args(ory, 60, retire_after='soon'))
    assert result['failed'] is True and 'retire_after must be a duration' in result['msg']
    assert ory.writes() == []


# ---------------------------------------------------------------- issued keys


def issued_args(ory, **extra):
    return dict(ory.talos_args(), name='billing', actor_id='svc', ttl='30d', rotate_before='7d', **extra)


def active_ids(ory):
    return sorted(k['key_id'] for k in ory.issued_keys('billing'))


def replaced_issued_key(ory, issued, **grace):
    first = issued(issued_args(ory))
    assert first['changed'] is True and not first.get('failed'), first.get('msg')
    old = first['api_key']['key_id']
    ory.set_expiry(old, 3 * 86400)          # within rotate_before: the next run replaces it
    result = issued(issued_args(ory, **grace))
    assert not result.get('failed'), result.get('msg')
    return old, result['api_key']['key_id'], result


def test_issued_replacement_with_retire_after(ory, issued):
    old, new, result = replaced_issued_key(ory, issued, retire_after='24h')
    assert result['previous_key']['key_id'] == old and result['old_key_retired'] is False
    assert active_ids(ory) == sorted([old, new]) and issued.meta()['previous']['key_id'] == old
    raw = issued.raw()
    again = issued(issued_args(ory, retire_after='24h'))
    assert again['changed'] is False and ory.writes() == [] and issued.raw() == raw
    later(ory, 25 * HOUR)
    done = issued(issued_args(ory, retire_after='24h'))
    assert done['previous_key']['state'] == 'retired' and active_ids(ory) == [new]
    assert ory.issued_key(old)['revocation_reason'] == 'REVOCATION_REASON_SUPERSEDED'
    assert 'previous' not in issued.meta()


def test_issued_retire_when_used_waits_for_the_new_keys_first_use(ory, issued):
    old, new, result = replaced_issued_key(ory, issued, retire_when_used=True)
    previous = issued.meta()['previous']
    assert previous['retire_when_used'] is True and previous['retire_after'] is None
    assert 'until the new key is first used' in result['previous_key']['reason']
    later(ory, 2 * 86400)                   # time alone does not retire it (the old key expires in 3 days)
    waiting = issued(issued_args(ory, retire_when_used=True))
    assert waiting["changed"] is False and active_ids(ory) == sorted([old, new]), json.dumps({k: v for k, v in waiting.items() if k != "invocation"})
    assert ory.verify(issued.vault()[VAR])['is_valid'] is True   # a consumer uses the new secret
    done = issued(issued_args(ory, retire_when_used=True))
    assert done['previous_key']['state'] == 'retired' and 'was used at' in done['previous_key']['reason']
    assert active_ids(ory) == [new] and 'previous' not in issued.meta()


def test_issued_retire_previous(ory, issued):
    old, new, dummy = replaced_issued_key(ory, issued, retire_after='7d')
    done = issued(issued_args(ory, retire_previous=True))
    assert done['previous_key']['state'] == 'retired' and active_ids(ory) == [new]


def test_issued_replacement_due_while_the_previous_key_waits_is_deferred(ory, issued):
    old, new, dummy = replaced_issued_key(ory, issued, retire_after='7d')
    ory.set_expiry(new, 3 * 86400)          # the new key comes within rotate_before while the old one waits
    deferred = issued(issued_args(ory, retire_after='7d', scopes=['a']))
    assert deferred['deferred'].startswith('due for replacement (replace); waits while its previous key %s' % old)
    assert deferred['api_key']['key_id'] == new and deferred['api_key']['scopes'] == ['a'], 'mutable changes still apply'
    assert active_ids(ory) == sorted([old, new])
    done = issued(issued_args(ory, retire_after='7d', scopes=['a'], retire_previous=True))
    assert done['retired_key_ids'] == [old] and done['previous_key']['key_id'] == new
    assert active_ids(ory) == sorted([new, done['api_key']['key_id']])


def test_issued_lost_secret_is_never_kept_as_previous(ory, issued):
    stranger, dummy = ory.issue(name='billing', actor_id='svc', ttl='720h')
    result = issued(issued_args(ory, retire_after='24h'))
    assert not result.get('failed'), result.get('msg')
    assert result['old_key_id'] == stranger['key_id'] and result['old_key_retired'] is True and 'previous_key' not in result
    assert active_ids(ory) == [result['api_key']['key_id']] and 'previous' not in issued.meta()


def test_retire_when_used_is_refused_without_vault_dest(ory, issued):
    result = issued(issued_args(ory, retire_when_used=True), vault=False)
    assert result['failed'] is True and result['msg'].startswith('retire_when_used needs vault_dest')
    assert ory.calls == []


def test_the_channel_is_no_task_option():
    """The previous key reaches the module through its environment (from the vault file), never as a task option."""
    for module in (ory_project_api_key, ory_issued_api_key):
        assert 'previous_key' not in module.argument_spec()
        assert 'previous_key' not in yaml.safe_load(module.DOCUMENTATION)['options']


def test_a_task_by_id_leaves_the_record_alone(ory, project):
    old, new, dummy = replaced_project_key(ory, project, retire_after='24h')
    raw = project.raw()
    by_id = project(dict(ory.console_args(project_id=ory.project_id), id=new, name='ci', retire_previous=True))
    assert by_id['changed'] is False and 'previous_key' not in by_id
    assert project.raw() == raw and live_ids(ory) == sorted([old, new])


def test_retire_when_used_is_no_option_of_project_keys(ory, project):
    result = project(project_args(ory, 60, retire_when_used=True), vault=False)
    assert result['failed'] is True and 'retire_when_used' in result['msg'] and 'needs vault_dest' not in result['msg']
