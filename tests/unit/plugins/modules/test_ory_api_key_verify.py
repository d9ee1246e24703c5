"""Unit tests of ory_api_key_verify."""
from __future__ import annotations

import pytest

from ansible_collections.ory.network.plugins.modules import ory_api_key_verify as module, ory_issued_api_key
from ansible_collections.ory.network.tests.unit.fake_transport import FakeResponse, install
from ansible_collections.ory.network.tests.unit.plugins.modules.talos_fake import TalosFake, run_main

VERIFY = '/v2alpha1/admin/apiKeys:verify'


@pytest.fixture(name='talos')
def fixture_talos(monkeypatch):
    fake = TalosFake()
    install(monkeypatch, fake.api)
    return fake


def issue(capsys, **args):
    return run_main(ory_issued_api_key, dict(name='v', actor_id='svc', scopes=['read'], **args), capsys)


def test_valid_key(talos, capsys):
    issued = issue(capsys)
    result = run_main(module, dict(credential=issued['secret']), capsys)
    assert result['changed'] is False and result['is_valid'] is True
    assert result['error_code'] is None and result['error_message'] is None
    assert result['key_id'] == issued['api_key']['key_id'] and result['actor_id'] == 'svc' and result['scopes'] == ['read']
    assert result['expire_time'] == issued['api_key']['expire_time']
    assert talos.api.calls[-1][3] == {'credential': issued['secret']}


def test_revoked_key_is_invalid_not_a_failure(talos, capsys):
    issued = issue(capsys)
    run_main(ory_issued_api_key, dict(key_id=issued['api_key']['key_id'], state='absent'), capsys)
    result = run_main(module, dict(credential=issued['secret']), capsys)
    assert 'failed' not in result and result['changed'] is False
    assert result['is_valid'] is False and result['error_code'] == 'VERIFICATION_ERROR_REVOKED'
    assert result['error_message']


def test_unknown_key_and_audiences(talos, capsys):
    result = run_main(module, dict(credential='ory_ak_v1_nothing_here', expected_audiences=['api']), capsys)
    assert result['is_valid'] is False and result['error_code'] == 'VERIFICATION_ERROR_NOT_FOUND' and result['scopes'] == []
    assert talos.api.calls[-1][3]['expected_audiences'] == ['api']


def test_check_mode_still_verifies(talos, capsys):
    issued = issue(capsys)
    result = run_main(module, dict(credential=issued['secret']), capsys, check_mode=True)
    assert result['is_valid'] is True and result['changed'] is False


def test_rate_limited_verify_is_retried(talos, capsys):
    issued = issue(capsys)
    talos.api.fail_next('POST', VERIFY, FakeResponse(429, headers={'x-ratelimit-reset': '1'}))
    result = run_main(module, dict(credential=issued['secret']), capsys)
    assert result['is_valid'] is True


def test_malformed_request_fails(talos, capsys):
    result = run_main(module, dict(credential=''), capsys)
    assert result['failed'] is True and 'CREDENTIAL_REQUIRED' in result['msg']


def test_credential_never_echoed(talos, capsys):
    issued = issue(capsys)
    result = run_main(module, dict(credential=issued['secret']), capsys)
    assert issued['secret'] not in str(result)


def test_wrong_credential_kind(talos, capsys):
    result = run_main(module, dict(credential='x', project_api_key='ory_wak_' + 'Z' * 20), capsys)
    assert result['failed'] is True and result['msg'].startswith('project_api_key holds a workspace API key')
