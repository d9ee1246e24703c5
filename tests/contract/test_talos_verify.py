# Talos verify and batchVerify: 200 for every well-formed request, error codes for invalid credentials, 400 for malformed ones.
from __future__ import annotations

import pytest
from ory_client.models import BatchVerifyApiKeysResponse, IssuedApiKey, VerifyApiKeyResponse

from .helpers import VERIFY, assert_aip, sdk

BATCH = '/v2alpha1/admin/apiKeys:batchVerify'


def _code(result):
    parsed = sdk(VerifyApiKeyResponse, result)
    assert parsed.is_valid is False
    assert parsed.error_message
    assert set(result) == {'is_valid', 'error_code', 'error_message'}
    return parsed.error_code.value


def test_verify_success_fields(emu, actor):
    body = emu.issue(name='v', actor_id=actor, scopes=['s1'], metadata={'k': 'v'}, rate_limit_policy={'quota': '7', 'window': '60s'})
    result = emu.verify(body['secret'])
    parsed = sdk(VerifyApiKeyResponse, result)
    assert parsed.is_valid is True
    assert parsed.key_id == body['issued_api_key']['key_id']
    assert parsed.actor_id == actor and parsed.scopes == ['s1'] and parsed.metadata == {'k': 'v'}
    assert result['expire_time'] == body['issued_api_key']['expire_time']
    assert result['status'] == 'KEY_STATUS_ACTIVE' and result['visibility'] == 'KEY_VISIBILITY_SECRET'
    assert result['issuer'] == emu.info['project_url']
    assert result['rate_limit_policy'] == {'quota': '7', 'window': '60s', 'unit': 'requests'}
    assert 'error_code' not in result
    # verification records last use
    got = sdk(IssuedApiKey, emu.get_key(parsed.key_id))
    assert got.last_used_time is not None


def test_verify_not_found_cases(emu, make_emu, actor):
    body = emu.issue(name='nf', actor_id=actor)
    secret = body['secret']
    tampered = secret[:-1] + ('2' if secret[-1] != '2' else '3')
    assert _code(emu.verify(tampered)) == 'VERIFICATION_ERROR_NOT_FOUND'
    assert _code(emu.verify('some-imported-or-unknown-key')) == 'VERIFICATION_ERROR_NOT_FOUND'
    other = make_emu(config={'projects': [{'slug': 'one'}, {'slug': 'two'}]})
    one = other.issue(name='x', slug='one')
    assert other.verify(one['secret'], slug='one')['is_valid'] is True
    resp = other.talos('POST', VERIFY, slug='two', key=other.info['projects'][1]['project_api_key'], json={'credential': one['secret']})
    assert resp.status_code == 200
    assert _code(resp.json()) == 'VERIFICATION_ERROR_NOT_FOUND'
    # a key from another emulator (another HMAC secret) is unknown here
    assert _code(emu.verify(one['secret'])) == 'VERIFICATION_ERROR_NOT_FOUND'


@pytest.mark.parametrize('credential,code', [
    ('ory_ak_v1_unknown_x', 'VERIFICATION_ERROR_INVALID_FORMAT'),
    ('ory_ak_v1_0OIl_abc', 'VERIFICATION_ERROR_INVALID_FORMAT'),
    ('ory_ak_v1__', 'VERIFICATION_ERROR_INVALID_FORMAT'),
    ('has space', 'VERIFICATION_ERROR_INVALID_FORMAT'),
    ('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'VERIFICATION_ERROR_SIGNATURE_INVALID'),
])
def test_verify_format_errors(emu, credential, code):
    assert _code(emu.verify(credential)) == code


def test_verify_audience_mismatch(emu, actor):
    body = emu.issue(name='aud', actor_id=actor)
    resp = emu.talos('POST', VERIFY, json={'credential': body['secret'], 'expected_audiences': ['api.example.com']})
    assert resp.status_code == 200
    assert _code(resp.json()) == 'VERIFICATION_ERROR_AUDIENCE_MISMATCH'


@pytest.mark.parametrize('body,reason', [
    ({}, 'CREDENTIAL_REQUIRED'),
    ({'credential': ''}, 'CREDENTIAL_REQUIRED'),
    ({'credential': 5}, 'BAD_REQUEST'),
    ({'credential': 'x' * 8193}, 'BAD_REQUEST'),
    ({'credential': 'x', 'expected_audiences': 'a'}, 'BAD_REQUEST'),
])
def test_verify_malformed(emu, body, reason):
    assert_aip(emu.talos('POST', VERIFY, json=body), 400, 'INVALID_ARGUMENT', reason)


def test_batch_verify(emu, actor):
    good = emu.issue(name='b1', actor_id=actor)
    revoked = emu.issue(name='b2', actor_id=actor)
    emu.revoke(revoked['issued_api_key']['key_id'])
    resp = emu.talos('POST', BATCH, json={'requests': [{'credential': good['secret']}, {'credential': revoked['secret']},
                                                       {'credential': 'nope'}]})
    assert resp.status_code == 200, resp.text
    parsed = sdk(BatchVerifyApiKeysResponse, resp.json())
    assert [result.is_valid for result in parsed.results] == [True, False, False]
    assert parsed.results[0].key_id == good['issued_api_key']['key_id']
    assert [result.error_code.value for result in parsed.results[1:]] == ['VERIFICATION_ERROR_REVOKED', 'VERIFICATION_ERROR_NOT_FOUND']

    resp = emu.talos('POST', BATCH, json={'requests': [{'credential': good['secret']}] * 100})
    assert resp.status_code == 200 and len(resp.json()['results']) == 100
    assert_aip(emu.talos('POST', BATCH, json={'requests': [{'credential': 'x'}] * 101}), 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    assert_aip(emu.talos('POST', BATCH, json={'requests': [{'credential': ''}]}), 400, 'INVALID_ARGUMENT', 'CREDENTIAL_REQUIRED')
    assert_aip(emu.talos('POST', BATCH, json={'requests': 'x'}), 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
