"""Without the requests library every module still imports, and fails with Ansible's missing-library message."""
from __future__ import annotations

import importlib

import pytest

from ansible_collections.ory.network.plugins.module_utils import _api_keys

MODULES = ['ory_project_api_key', 'ory_project_api_key_info', 'ory_workspace_api_key_info',
           'ory_issued_api_key', 'ory_issued_api_key_info', 'ory_api_key_verify']
ARGS = {'name': 'ci', 'project_id': 'p', 'workspace_id': 'w', 'credential': 'ory_ak_v1_x_y', 'key_id': 'k'}


@pytest.mark.parametrize('name', MODULES)
def test_module_fails_with_missing_library_message(name, monkeypatch, run_main):
    module = importlib.import_module('ansible_collections.ory.network.plugins.modules.' + name)
    monkeypatch.setattr(_api_keys, 'HAS_REQUESTS', False)
    monkeypatch.setattr(_api_keys, 'REQUESTS_IMPORT_ERROR', ImportError('No module named requests'))
    spec = module.argument_spec()
    args = dict((k, v) for k, v in ARGS.items() if k in spec)
    result, code = run_main(module, args)
    assert code == 1 and result['failed'] is True
    assert 'Failed to import the required Python library (requests)' in result['msg']
