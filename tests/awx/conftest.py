"""Fixtures: an Ory Network emulator seeded with the example project's two environments, and an Ansible
environment in which the collection is found and no ORY_* variable of the caller's shell leaks into a job."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.utils.with_emulator import start_emulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'emulator.yml')


class Emulator:
    def __init__(self, proc, info):
        self.proc = proc
        self.info = info
        self.admin = info['admin_url']

    def admin_call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.admin + path, data=data, method=method, headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else None

    def writes(self):
        """Requests that change state (every method but GET, and verify, which only reads), per endpoint, since the last reset."""
        stats = self.admin_call('GET', '/stats')['requests']
        return {endpoint: count for endpoint, count in stats.items()
                if not endpoint.startswith(('GET ', 'HEAD ')) and not endpoint.endswith((':verify', ':batchVerify'))}

    def reset_stats(self):
        self.admin_call('DELETE', '/stats')

    def seeded_secrets(self):
        return [self.info['workspace_api_key']] + [project['project_api_key'] for project in self.info['projects']]


@pytest.fixture(scope='module')
def emulator(tmp_path_factory):
    state = tmp_path_factory.mktemp('emulator')
    proc, info = start_emulator(str(state), SEED)
    yield Emulator(proc, info)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(autouse=True, scope='module')
def ansible_env(tmp_path_factory):
    """The collection through a collections path outside the repository; the venv's Python for modules."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith('ORY_'):
            del os.environ[name]
    if not os.environ.get('ANSIBLE_COLLECTIONS_PATH'):
        path = tmp_path_factory.mktemp('collections')
        (path / 'ansible_collections' / 'ory').mkdir(parents=True)
        os.symlink(ROOT, str(path / 'ansible_collections' / 'ory' / 'network'))
        os.environ['ANSIBLE_COLLECTIONS_PATH'] = str(path)
    os.environ.setdefault('ANSIBLE_PYTHON_INTERPRETER', sys.executable)
    os.environ['PATH'] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')
    os.environ['ANSIBLE_NOCOLOR'] = '1'
    os.environ['ANSIBLE_LOCALHOST_WARNING'] = 'false'
    yield
    os.environ.clear()
    os.environ.update(saved)
