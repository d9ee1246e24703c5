# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection set is shared by the whole action group: group module_defaults, ORY_* environment, option errors."""
from __future__ import annotations

import pytest
import yaml

from ansible_collections.ory.network.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.ory.network.plugins.modules import (
    ory_api_key_audit, ory_api_key_verify, ory_imported_api_key, ory_imported_api_key_info, ory_issued_api_key,
    ory_issued_api_key_info, ory_project_api_key, ory_project_api_key_info, ory_workspace_api_key_info,
)
from ansible_collections.ory.network.tests.unit.conftest import check_return_doc

MODULES = {
    'ory_project_api_key': (ory_project_api_key, dict(name='ci')),
    'ory_project_api_key_info': (ory_project_api_key_info, {}),
    'ory_workspace_api_key_info': (ory_workspace_api_key_info, {}),
    'ory_issued_api_key': (ory_issued_api_key, dict(name='ci')),
    'ory_issued_api_key_info': (ory_issued_api_key_info, {}),
    'ory_api_key_verify': (ory_api_key_verify, dict(credential=None)),
    'ory_imported_api_key': (ory_imported_api_key, dict(raw_key='legacy-connection-test-0123456789', name='ci', actor_id='svc')),
    'ory_imported_api_key_info': (ory_imported_api_key_info, {}),
    'ory_api_key_audit': (ory_api_key_audit, dict(environment='ci')),
}
# Members of the group that run on the controller only (an action plugin with a documentation stub, no module code);
# their argument spec is built from the same connection set (connection_argument_spec).
ACTION_ONLY = {'ory_api_key_bootstrap'}
ENV = {'ORY_CA_PATH': 'ca_path', 'ORY_VALIDATE_CERTS': 'validate_certs', 'ORY_TIMEOUT': 'timeout', 'ORY_MAX_RETRIES': 'retries'}


def test_runtime_group_lists_every_module():
    import os
    runtime = os.path.join(os.path.dirname(ory_project_api_key.__file__), '..', '..', 'meta', 'runtime.yml')
    with open(runtime, encoding='utf-8') as handle:
        assert sorted(yaml.safe_load(handle)['action_groups']['ory']) == sorted(set(MODULES) | ACTION_ONLY)


@pytest.mark.parametrize('name', sorted(MODULES))
def test_every_module_accepts_the_whole_connection_set(ory, run_main, name):
    """What a play sets once in module_defaults for group/ory.network.ory works for every module of the group."""
    module, own = MODULES[name]
    own = dict(own)
    if 'credential' in own:
        own['credential'] = ory.issue()[1]
    result, code = run_main(module, ory.connection(validate_certs=True, ca_path=None, timeout=10, retries=2, **own))
    assert code == 0, result.get('msg')
    check_return_doc(module, result)


@pytest.mark.parametrize('module, args', [
    (ory_project_api_key, dict(nmae='ci')),
    (ory_issued_api_key, dict(nmae='ci')),
    (ory_project_api_key, dict(nmae='ci', project_id=None)),
])
def test_an_unknown_option_is_reported_before_any_other_argument_error(ory, run_main, module, args):
    connection = ory.connection()
    if 'project_id' in args:
        del connection['project_id']
        args = dict(nmae='ci')
    result, code = run_main(module, dict(connection, **args))
    assert code == 1
    assert result['msg'].startswith('Unsupported parameters'), result['msg']
    assert 'nmae' in result['msg']
    assert ory.calls == []


def test_the_tls_timeout_and_retry_options_come_from_the_environment(ory, run_main, monkeypatch):
    monkeypatch.setenv('ORY_VALIDATE_CERTS', 'false')
    monkeypatch.setenv('ORY_TIMEOUT', '0.25')
    monkeypatch.setenv('ORY_MAX_RETRIES', '1')
    # a 503 (a 429 that says when to come back is waited out without counting toward retries)
    ory.fault(fault='status', status=503, endpoint='GET /projects/{project}/tokens', times=5)
    result, code = run_main(ory_project_api_key_info, ory.console_args(project_id=ory.project_id))
    assert code == 1
    assert len(ory.calls) == 2, 'ORY_MAX_RETRIES=1: one retry'
    assert ory.sleeps == [0.25], 'ORY_TIMEOUT caps the wait between retries'
    assert ory.verify_seen == [False, False]
    assert '503' in result['msg']


def test_ca_path_comes_from_the_environment(ory, run_main, monkeypatch, tmp_path):
    bundle = tmp_path / 'ca.pem'
    bundle.write_text('not used by the in-process transport\n')
    monkeypatch.setenv('ORY_CA_PATH', str(bundle))
    result, code = run_main(ory_project_api_key_info, ory.console_args(project_id=ory.project_id))
    assert code == 0, result.get('msg')
    assert ory.verify_seen == [str(bundle)]


def test_a_task_option_wins_over_the_environment(ory, run_main, monkeypatch):
    monkeypatch.setenv('ORY_VALIDATE_CERTS', 'false')
    result, code = run_main(ory_project_api_key_info, ory.console_args(project_id=ory.project_id, validate_certs=True))
    assert code == 0, result.get('msg')
    assert len(ory.verify_seen) == 1 and ory.verify_seen[0] is not False  # True, or the bundle REQUESTS_CA_BUNDLE names


def test_connection_doc_fragment_documents_every_option_and_environment_variable():
    from ansible_collections.ory.network.plugins.module_utils._options import CONNECTION_ARGUMENT_SPEC
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    assert sorted(options) == sorted(CONNECTION_ARGUMENT_SPEC)
    for name, spec in CONNECTION_ARGUMENT_SPEC.items():
        for env in spec['fallback'][1]:
            assert 'E(%s)' % env in ' '.join(options[name]['description']), '%s: %s is not documented' % (name, env)
    for env, option in ENV.items():
        assert CONNECTION_ARGUMENT_SPEC[option]['fallback'][1] == [env]
