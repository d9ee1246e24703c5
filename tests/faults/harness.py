"""Run the key modules in-process, the way a task does: the action plugin on the "controller", the module's main()
as its module run, against an emulator started in this process. Used by the fault matrix, where starting
ansible-playbook for each of hundreds of runs would cost most of the test budget.

Everything the product does is real (action plugin, vault writer, module, HTTP client, emulator); only the task
object, the connection and the result plumbing of ansible-playbook are stand-ins.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import threading
from unittest import mock

import requests

from ansible.module_utils import basic
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
# tests/run_tests.sh links the checkout as <ANSIBLE_COLLECTIONS_PATH>/ansible_collections/ory/network
for _path in reversed(os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep)):
    if _path and _path not in sys.path:
        sys.path.insert(0, _path)

from ansible_collections.ory.network.plugins.module_utils._options import SECRET_SINK_ENV, STORED_KEY_ENV  # noqa: E402  pylint: disable=wrong-import-position
from tests.emulator.server import Emulator, EmulatorServer  # noqa: E402  pylint: disable=wrong-import-position
from tests.emulator.state import State  # noqa: E402  pylint: disable=wrong-import-position

try:
    from ansible.module_utils import _internal
except ImportError:  # ansible-core < 2.19
    _internal = None


def start_emulator():
    """An emulator with a fresh in-memory state on a free port, served by a daemon thread. Returns (server, info)."""
    state = State(None)
    state.load_or_seed({})
    emulator = Emulator(state)
    server = EmulatorServer(emulator, 0)
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True).start()
    return server, emulator.info()


def emulator_env(info):
    return {
        'ORY_CONSOLE_API_URL': info['console_url'],
        'ORY_PROJECT_API_URL': info['project_url_template'],
        'ORY_WORKSPACE_API_KEY': info['workspace_api_key'],
        'ORY_WORKSPACE_ID': info['workspace_id'],
        'ORY_PROJECT_API_KEY': info['project_api_key'],
        'ORY_PROJECT_ID': info['project_id'],
        'ORY_PROJECT_SLUG': info['project_slug'],
        'ORY_EMULATOR_ADMIN_URL': info['admin_url'],
    }


def active_issued_keys(project_url, project_api_key, actor_id):
    """The actor's active issued keys, as the Talos API lists them (one page: the fault tests stay far below 1000 keys)."""
    answer = requests.get(project_url + '/v2alpha1/admin/issuedApiKeys', headers={'Authorization': 'Bearer ' + project_api_key},
                          params={'filter': 'actor_id="%s" AND status=KEY_STATUS_ACTIVE' % actor_id, 'page_size': 1000}, timeout=10)
    return answer.json().get('issued_api_keys') or []


def run_module(name, args, environ=None):
    """Run the module ``name`` (FQCN) with ``args`` (and the ``environ`` its action plugin gives it) in this process; return
    its result as ansible-playbook would."""
    module = importlib.import_module('ansible_collections.ory.network.plugins.modules.' + name.rsplit('.', 1)[-1])
    payload = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()
    out = io.StringIO()
    patches = [mock.patch.object(basic, '_ANSIBLE_ARGS', payload), mock.patch.dict(os.environ, environ or {})]
    if hasattr(basic, '_ANSIBLE_PROFILE'):
        patches.append(mock.patch.object(basic, '_ANSIBLE_PROFILE', 'legacy'))
    if _internal is not None and hasattr(_internal, 'is_controller'):
        # as on a target: module warnings go into the result
        patches.append(mock.patch.object(_internal, 'is_controller', False))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        stack.enter_context(contextlib.redirect_stdout(out))
        try:
            module.main()
        except SystemExit:
            pass
    text = out.getvalue()
    try:
        return json.loads(text[text.index('{'):])
    except ValueError:
        return {'failed': True, 'msg': 'MODULE FAILURE: no JSON result', 'module_stdout': text[-500:]}


def module_environment(action):
    """The internal channels the action plugin puts in the module's environment (secret sink, stored key id)."""
    environ = {}
    if getattr(action, '_secret_sink', None):
        environ[SECRET_SINK_ENV] = action._secret_sink
    if getattr(action, '_stored_key_id', None) is not None:
        environ[STORED_KEY_ENV] = action._stored_key_id
    return environ


class Task:
    """What the action plugin reads of a task."""

    def __init__(self, action, args, register):
        self.action = action
        self.args = dict(args)
        self.register = register
        self.check_mode = False
        self.diff = False
        self.async_val = 0
        self.delegate_to = None
        self.environment = None
        self.no_log = False


class Controller:
    """Runs key-module tasks through their action plugins, with one vault password loaded."""

    def __init__(self, workdir, password):
        self.loader = DataLoader()
        self.loader.set_basedir(workdir)
        self.loader.set_vault_secrets([('default', VaultSecret(password.encode()))])

    def run(self, module, args, register='result'):
        """Run one task of ``module`` (FQCN); return the task result (the secret is in it only when registered)."""
        short = module.rsplit('.', 1)[-1]
        action_cls = importlib.import_module('ansible_collections.ory.network.plugins.action.' + short).ActionModule
        connection = mock.MagicMock()
        connection._shell.tmpdir = None
        action = action_cls(Task(module, args, register), connection, mock.MagicMock(), self.loader, None, None)
        action._execute_module = lambda module_name=None, module_args=None, task_vars=None, **kw: run_module(
            module_name, module_args, module_environment(action))
        action._remove_tmp_path = lambda *a, **kw: None
        try:
            return action.run(task_vars={})
        except Exception as exc:  # pylint: disable=broad-exception-caught
            return {'failed': True, 'msg': 'Traceback-like crash in the action plugin: %s' % type(exc).__name__}
