# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input is refused with one sentence naming the option, before any request (the emulator counts requests)."""

from __future__ import annotations

import json

import pytest
import requests


from ansible_collections.ory.network.plugins.modules import ory_issued_api_key, ory_project_api_key
from ansible_collections.ory.network.tests.unit.conftest import module_args
from ansible_collections.ory.network.tests.unit.emulator_live import LiveEmulator


@pytest.fixture(name='emu', scope='module')
def fixture_emu():
    live = LiveEmulator()
    yield live.info
    live.stop()


def requests_made(emu):
    return requests.get(emu['admin_url'] + '/stats', timeout=5).json()['total']


def run_main(module, args, capsys):
    with module_args(args):
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
