"""The Ory Network emulator (tests/emulator), started in this process for unit tests that run a module's main().

No fake: the same emulator the contract tests check against the official SDK models, in memory, on a free port.
"""
from __future__ import annotations

import json
import re
import threading

import pytest
import requests

from ansible_collections.ory.network.tests.emulator.server import Emulator, EmulatorServer
from ansible_collections.ory.network.tests.emulator.state import State
from ansible_collections.ory.network.tests.unit.conftest import module_args

SECRET_SHAPE = re.compile(r'ory_(pat|wak|ak|pk|apikey)_[A-Za-z0-9_-]{6,}')


class LiveEmulator:
    def __init__(self):
        state = State(None)
        state.load_or_seed({})
        self.emulator = Emulator(state)
        self.server = EmulatorServer(self.emulator, 0)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self.thread.start()
        self.info = self.emulator.info()
        self.connection = {
            'project_api_url': self.info['project_url'],
            'project_api_key': self.info['project_api_key'],
            'console_api_url': self.info['console_url'],
            'workspace_api_key': self.info['workspace_api_key'],
            'project_id': self.info['project_id'],
            'retries': 0,
        }

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def stats(self):
        return self.emulator.stats.snapshot()

    def reset_stats(self):
        self.emulator.stats.reset()

    def talos(self, method, path, **kwargs):
        headers = {'Authorization': 'Bearer ' + self.info['project_api_key']}
        return requests.request(method, self.info['project_url'] + path, headers=headers, timeout=30, **kwargs)

    def admin(self, method, path, **kwargs):
        return requests.request(method, self.info['admin_url'] + path, timeout=30, **kwargs)


@pytest.fixture(name='live')
def fixture_live():
    emulator = LiveEmulator()
    yield emulator
    emulator.stop()


def run_main(module, args, capsys, connection, check_mode=False, diff=False, hidden=()):
    """Run ``module.main()`` with ``args`` plus the connection; return the parsed result.

    The output must hold no credential-shaped string and none of the ``hidden`` values (raw keys).
    """
    full = dict(connection, **args)
    if check_mode:
        full['_ansible_check_mode'] = True
    if diff:
        full['_ansible_diff'] = True
    with module_args(full):
        with pytest.raises(SystemExit):
            module.main()
    captured = capsys.readouterr()
    assert not SECRET_SHAPE.search(captured.out + captured.err), captured.out
    for value in hidden:
        assert value not in captured.out and value not in captured.err, 'a raw key reached the output'
    return json.loads(captured.out)
