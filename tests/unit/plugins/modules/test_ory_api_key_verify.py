"""Unit tests of ory_api_key_verify: main() against the emulator, in process."""
from __future__ import annotations

from ansible_collections.ory.network.plugins.modules import ory_api_key_verify as module
from ansible_collections.ory.network.tests.unit.conftest import check_return_doc


def verify(ory, run_main, check=False, **args):
    result, code = run_main(module, ory.talos_args(**args), check=check)
    if code == 0:
        check_return_doc(module, result)
    return result


def test_valid_key(ory, run_main):
    key, secret = ory.issue(name='v', actor_id='svc', scopes=['read'])
    result = verify(ory, run_main, credential=secret)
    assert result['changed'] is False and result['is_valid'] is True
    assert result['error_code'] is None and result['error_message'] is None
    assert result['key_id'] == key['key_id'] and result['actor_id'] == 'svc' and result['scopes'] == ['read']
    assert result['expire_time'] == key['expire_time']
    assert ory.calls[-1].body == {'credential': secret}


def test_revoked_key_is_invalid_not_a_failure(ory, run_main):
    key, secret = ory.issue(name='v')
    assert ory.call('POST', ory.talos_path('/%s:revoke' % key['key_id']), {'reason': 'REVOCATION_REASON_KEY_COMPROMISE'},
                    ory.project_api_key)[0] == 204
    result = verify(ory, run_main, credential=secret)
    assert 'failed' not in result and result['changed'] is False
    assert result['is_valid'] is False and result['error_code'] == 'VERIFICATION_ERROR_REVOKED'
    assert result['error_message']


def test_unknown_key_and_audiences(ory, run_main):
    result = verify(ory, run_main, credential='ory_ak_v1_nothing_here', expected_audiences=['api'])
    assert result['is_valid'] is False and result['error_code'] == 'VERIFICATION_ERROR_INVALID_FORMAT' and result['scopes'] == []
    assert ory.calls[-1].body['expected_audiences'] == ['api']


def test_check_mode_still_verifies(ory, run_main):
    dummy, secret = ory.issue(name='v')
    result = verify(ory, run_main, check=True, credential=secret)
    assert result['is_valid'] is True and result['changed'] is False


def test_rate_limited_verify_is_retried(ory, run_main):
    dummy, secret = ory.issue(name='v')
    ory.fault(fault='rate_limit', reset=1, endpoint='POST /v2alpha1/admin/apiKeys:verify')
    assert verify(ory, run_main, credential=secret)['is_valid'] is True
    assert len(ory.calls) == 2 and ory.sleeps[0] >= 1


def test_malformed_request_fails(ory, run_main):
    result = verify(ory, run_main, credential='')
    assert result['failed'] is True and 'CREDENTIAL_REQUIRED' in result['msg']


def test_credential_never_echoed(ory, run_main):
    dummy, secret = ory.issue(name='v')
    assert secret not in str(verify(ory, run_main, credential=secret))


def test_wrong_credential_kind(ory, run_main):
    result = verify(ory, run_main, credential='x', project_api_key='ory_wak_' + 'Z' * 20)
    assert result['failed'] is True and result['msg'].startswith('project_api_key holds a workspace API key')
