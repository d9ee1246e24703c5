# Talos issue: quickstart flow, secret format, TTL rules, request_id replay, quota, visibility and field validation.
from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from ory_client.models import IssueApiKeyResponse, IssuedApiKey, KeyStatus, KeyVisibility, VerifyApiKeyResponse

from tests.emulator.base58 import b58decode, b58encode

from .helpers import ISSUE, assert_aip, assert_timestamps, sdk

SECRET_RE = re.compile(r'^ory_ak_v1_([1-9A-HJ-NP-Za-km-z]+)_([1-9A-HJ-NP-Za-km-z]{40,44})$')


def _ts(text):
    return datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=timezone.utc)


def test_quickstart_flow(emu, actor):
    body = emu.issue(name='ci', actor_id=actor, scopes=['read', 'write'], ttl='720h')
    issued = sdk(IssueApiKeyResponse, body)
    key = issued.issued_api_key
    uuid.UUID(key.key_id)
    assert issued.secret.startswith('ory_ak_v1_')
    assert key.status == KeyStatus.KEY_STATUS_ACTIVE
    assert key.visibility == KeyVisibility.KEY_VISIBILITY_SECRET
    assert key.actor_id == actor and key.name == 'ci' and key.scopes == ['read', 'write']
    assert_timestamps(body['issued_api_key'], 'create_time', 'update_time', 'expire_time')
    assert key.expire_time - key.create_time == timedelta(hours=720)

    ok = sdk(VerifyApiKeyResponse, emu.verify(issued.secret))
    assert ok.is_valid is True
    assert ok.key_id == key.key_id and ok.actor_id == actor and ok.scopes == ['read', 'write']
    assert ok.status == KeyStatus.KEY_STATUS_ACTIVE
    assert ok.expire_time == key.expire_time
    assert ok.issuer

    resp = emu.revoke(key.key_id)
    assert resp.content == b''
    bad = sdk(VerifyApiKeyResponse, emu.verify(issued.secret))
    assert bad.is_valid is False
    assert bad.error_code.value == 'VERIFICATION_ERROR_REVOKED'
    assert bad.error_message
    assert bad.status != KeyStatus.KEY_STATUS_REVOKED

    again = emu.talos('POST', '%s/%s:revoke' % (ISSUE, key.key_id), json={'reason': 'REVOCATION_REASON_KEY_COMPROMISE'})
    assert_aip(again, 409, 'ALREADY_EXISTS', 'CONFLICT', 'key is already revoked')


def test_secret_shape_and_checksum(make_emu):
    hmac_secret = 'contract-test-hmac-secret'
    emulator = make_emu(config={'projects': [{'slug': 'shape', 'hmac_secret': hmac_secret}]})
    body = emulator.issue(name='shape', actor_id='a')
    secret = body['secret']
    match = SECRET_RE.match(secret)
    assert match, secret
    ident, checksum = match.groups()
    seconds, key_id = b58decode(ident).decode('ascii').split(':')
    assert key_id == body['issued_api_key']['key_id']
    assert uuid.UUID(key_id).version == 4
    assert abs(int(seconds) - _ts(body['issued_api_key']['create_time']).timestamp()) <= 1
    expected = hmac.new(hmac_secret.encode(), ('ory_ak_v1_%s_' % ident).encode(), hashlib.sha256).digest()
    assert checksum == b58encode(expected)
    assert 110 <= len(secret) <= 125


@pytest.mark.parametrize('ttl,seconds', [
    ('3600s', 3600), ('24h', 86400), ('1h30m', 5400), ('2d', 2 * 86400), ('1w', 7 * 86400),
    ('1mo', 30 * 86400), ('1y', 365 * 86400), ('1y6mo', 365 * 86400 + 180 * 86400), ('90m', 5400),
])
def test_ttl_formats(emu, actor, ttl, seconds):
    key = sdk(IssueApiKeyResponse, emu.issue(name='ttl', actor_id=actor, ttl=ttl)).issued_api_key
    assert (key.expire_time - key.create_time).total_seconds() == seconds


def test_ttl_default_is_project_default(emu, actor):
    key = sdk(IssueApiKeyResponse, emu.issue(name='default', actor_id=actor)).issued_api_key
    assert key.expire_time - key.create_time == timedelta(hours=168)


@pytest.mark.parametrize('ttl,message', [
    ('0s', 'ttl must be greater than 0; non-expiring API keys are not supported'),
    ('17521h', 'ttl 17521h0m0s exceeds the project maximum of 17520h0m0s'),
    ('3y', 'ttl 26280h0m0s exceeds the project maximum of 17520h0m0s'),
    ('abc', None), ('12', None), ('1x', None), ('h', None),
])
def test_ttl_rejected(emu, actor, ttl, message):
    resp = emu.talos('POST', ISSUE, json={'name': 'bad', 'actor_id': actor, 'ttl': ttl})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST', message)


def test_ttl_bounds_follow_project_knobs(fresh):
    fresh.set_project(max_ttl='48h', default_ttl='1h')
    key = sdk(IssueApiKeyResponse, fresh.issue(name='k', actor_id='a')).issued_api_key
    assert key.expire_time - key.create_time == timedelta(hours=1)
    assert sdk(IssueApiKeyResponse, fresh.issue(name='k', actor_id='a', ttl='48h')).issued_api_key
    resp = fresh.talos('POST', ISSUE, json={'ttl': '49h'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST', 'ttl 49h0m0s exceeds the project maximum of 48h0m0s')
    fresh.set_project(default_ttl=None)
    resp = fresh.talos('POST', ISSUE, json={'name': 'no-default'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST', 'ttl must be greater than 0; non-expiring API keys are not supported')


def test_request_id_replay_returns_original_without_secret(emu, actor):
    request_id = str(uuid.uuid4())
    first = emu.issue(name='idem', actor_id=actor, request_id=request_id)
    assert first['secret']
    replay = emu.issue(name='different', actor_id='someone-else', request_id=request_id)
    parsed = sdk(IssueApiKeyResponse, replay)
    assert parsed.secret is None and 'secret' not in replay
    assert replay['issued_api_key'] == first['issued_api_key']
    listed = emu.talos('GET', ISSUE, params={'filter': 'actor_id="%s"' % actor}).json()['issued_api_keys']
    assert len(listed) == 1

    emu.revoke(first['issued_api_key']['key_id'])
    after = emu.issue(name='idem', actor_id=actor, request_id=request_id)
    assert 'secret' not in after
    assert after['issued_api_key']['status'] == 'KEY_STATUS_REVOKED'


def test_request_id_length(emu, actor):
    assert emu.issue(name='rid', actor_id=actor, request_id='x' * 36)['secret']
    resp = emu.talos('POST', ISSUE, json={'name': 'rid', 'actor_id': actor, 'request_id': 'x' * 37})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')


def test_quota_counts_active_keys(fresh):
    fresh.set_project(key_quota=2)
    first = fresh.issue(name='q1', actor_id='a')
    fresh.issue(name='q2', actor_id='a')
    resp = fresh.talos('POST', ISSUE, json={'name': 'q3', 'actor_id': 'a'})
    assert_aip(resp, 402, 'PERMISSION_DENIED', 'API_KEY_QUOTA_EXCEEDED', 'the API key quota for this plan permits up to 2 active API keys')
    # a replay is not a new key: it is served at the quota
    fresh.revoke(first['issued_api_key']['key_id'])
    assert fresh.issue(name='q3', actor_id='a', request_id='rq-1')['secret']
    assert fresh.issue(name='q3', actor_id='a', request_id='rq-1')['issued_api_key']
    # expired keys do not count either
    fresh.set_project(key_quota=3)
    fresh.issue(name='short', actor_id='a', ttl='60s')
    resp = fresh.talos('POST', ISSUE, json={'name': 'q4', 'actor_id': 'a'})
    assert resp.status_code == 402
    fresh.advance('2m')
    assert fresh.issue(name='q4', actor_id='a')['secret']


def test_public_visibility_uses_public_prefix(fresh):
    body = fresh.issue(name='pub', actor_id='a', visibility='KEY_VISIBILITY_PUBLIC')
    assert body['secret'].startswith('ory_pk_v1_')
    assert sdk(IssuedApiKey, body['issued_api_key']).visibility == KeyVisibility.KEY_VISIBILITY_PUBLIC
    assert fresh.verify(body['secret'])['is_valid'] is True
    fresh.set_project(public_prefix=None)
    resp = fresh.talos('POST', ISSUE, json={'name': 'pub', 'visibility': 'KEY_VISIBILITY_PUBLIC'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    unspecified = fresh.issue(name='u', visibility='KEY_VISIBILITY_UNSPECIFIED')
    assert unspecified['issued_api_key']['visibility'] == 'KEY_VISIBILITY_SECRET'


def test_custom_prefix(fresh):
    fresh.set_project(prefix='acme_live')
    body = fresh.issue(name='p')
    assert body['secret'].startswith('acme_live_v1_')
    assert fresh.verify(body['secret'])['is_valid'] is True


def test_metadata_limit(emu, actor):
    ok = emu.issue(name='m', actor_id=actor, metadata={'blob': 'x' * 60000, 'n': 1, 'nested': {'a': [1, None, True]}})
    assert sdk(IssuedApiKey, ok['issued_api_key']).metadata['nested'] == {'a': [1, None, True]}
    resp = emu.talos('POST', ISSUE, json={'name': 'm', 'actor_id': actor, 'metadata': {'blob': 'x' * 70000}})
    err = assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    assert re.match(r'^metadata size \(\d+ bytes\) exceeds maximum of 65536 bytes$', err['message'])


def test_ip_restriction_and_rate_limit_policy(emu, actor):
    body = emu.issue(name='net', actor_id=actor, ip_restriction={'allowed_cidrs': ['10.0.0.0/8', '2001:db8::/32']},
                     rate_limit_policy={'quota': 100, 'window': '60s', 'unit': 'requests'})
    key = sdk(IssuedApiKey, body['issued_api_key'])
    assert key.ip_restriction.allowed_cidrs == ['10.0.0.0/8', '2001:db8::/32']
    assert body['issued_api_key']['rate_limit_policy'] == {'quota': '100', 'window': '60s', 'unit': 'requests'}
    assert key.rate_limit_policy.quota == '100'


@pytest.mark.parametrize('field,value', [
    ('ip_restriction', {'allowed_cidrs': ['10.0.0.0/33']}),
    ('ip_restriction', {'allowed_cidrs': ['not-a-cidr']}),
    ('ip_restriction', {'allowed_cidrs': ['10.0.0.1']}),
    ('ip_restriction', {'allowed_cidrs': 'x'}),
    ('rate_limit_policy', {'quota': '10', 'window': '60s', 'unit': 'bytes'}),
    ('rate_limit_policy', {'quota': '10', 'window': '1.5s'}),
    ('rate_limit_policy', {'quota': 'ten', 'window': '60s'}),
    ('scopes', 'read'),
    ('scopes', [1, 2]),
    ('name', 5),
    ('actor_id', ['a']),
    ('metadata', 'x'),
    ('visibility', 'KEY_VISIBILITY_BOGUS'),
    ('ttl', 3600),
])
def test_issue_field_validation(emu, field, value):
    resp = emu.talos('POST', ISSUE, json={'name': 'v', field: value})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
