# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input is refused with one sentence naming the option, before any request (the emulator counts requests)."""

from __future__ import annotations

import json
import threading
from unittest import mock

import pytest
import requests

from ansible.module_utils import _internal
from ansible.module_utils.testing import patch_module_args
from ansible.parsing.dataloader import DataLoader

from ansible_collections.ory.network.plugins.action.ory_issued_api_key import ActionModule as IssuedAction
from ansible_collections.ory.network.plugins.action.ory_project_api_key import ActionModule as ProjectAction
from ansible_collections.ory.network.plugins.modules import ory_issued_api_key, ory_project_api_key
from ansible_collections.ory.network.plugins.plugin_utils import _secret_action
from ansible_collections.ory.network.tests.emulator.server import Emulator, EmulatorServer
from ansible_collections.ory.network.tests.emulator.state import State


@pytest.fixture(name='emu', scope='module')
def fixture_emu():
    state = State(None)
    state.load_or_seed({})
    server = EmulatorServer(Emulator(state), 0)
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()
    yield server.emulator.info()
    server.shutdown()
    server.server_close()


def requests_made(emu):
    return requests.get(emu['admin_url'] + '/stats', timeout=5).json()['total']


def run_main(module, args, capsys):
    with patch_module_args(args), mock.patch.object(_internal, 'is_controller', False):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def project_args(emu, **extra):
    args = dict(workspace_api_key=emu['workspace_api_key'], console_api_url=emu['console_url'], project_id=emu['project_id'],
                name='ci')
    args.update(extra)
    return args


def issued_args(emu, **extra):
    args = dict(project_api_key=emu['project_api_key'], project_api_url=emu['project_url'], name='ci', ttl='1h')
    args.update(extra)
    return args


PROJECT_CASES = [
    (dict(name=''), 'name must not be empty'),
    (dict(name='x' * 5000), 'name must be at most 255 characters'),
    (dict(name='bad\nname'), 'name must not contain control characters'),
    (dict(name='bad\x07name'), 'name must not contain control characters'),
    (dict(id='', state='absent'), 'id must not be empty'),
    (dict(retries=-3), 'retries must be 0 or more'),
    (dict(expires_in='99999y'), "expires_in must be at most 100y"),
    (dict(rotate_before='99999y'), "rotate_before must be at most 100y"),
    (dict(expires_at='2030-01-01T00:00:00'), 'expires_at must end with Z or an offset'),
]

ISSUED_CASES = [
    (dict(name=''), 'name must not be empty'),
    (dict(name='x' * 5000), 'name must be at most 255 characters'),
    (dict(name='tab\tname'), 'name must not contain control characters'),
    (dict(actor_id='svc\n'), 'actor_id must not contain control characters'),
    (dict(key_id='', name=None), 'key_id must not be empty'),
    (dict(retries=-3), 'retries must be 0 or more'),
    (dict(ttl='99999y'), 'ttl must be at most 100y'),
]


@pytest.mark.parametrize('extra, message', PROJECT_CASES)
def test_project_key_bad_input(emu, capsys, extra, message):
    before = requests_made(emu)
    result = run_main(ory_project_api_key, project_args(emu, **extra), capsys)
    assert result['failed'] is True and message in result['msg'], result['msg']
    assert '\n' not in result['msg'] and result['msg'].endswith('.')
    assert requests_made(emu) == before, 'no request before the input is checked'


@pytest.mark.parametrize('extra, message', ISSUED_CASES)
def test_issued_key_bad_input(emu, capsys, extra, message):
    before = requests_made(emu)
    result = run_main(ory_issued_api_key, issued_args(emu, **extra), capsys)
    assert result['failed'] is True and message in result['msg'], result['msg']
    assert '\n' not in result['msg'] and result['msg'].endswith('.')
    assert requests_made(emu) == before, 'no request before the input is checked'


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
