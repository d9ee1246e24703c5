# Talos key lifecycle: PATCH with update_mask, revoke rules, rotate inheritance, self-revoke, expiry through the emulator clock.
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from ory_client.models import IssuedApiKey, KeyStatus, KeyVisibility, RevocationReason, RotateIssuedApiKeyResponse, VerifyApiKeyResponse

from .helpers import ISSUE, assert_aip, assert_timestamps, sdk

FULL = {'name': 'full', 'scopes': ['a', 'b'], 'metadata': {'env': 'prod'}, 'rate_limit_policy': {'quota': '5', 'window': '60s'},
        'ip_restriction': {'allowed_cidrs': ['10.0.0.0/8']}}


def _patch(emulator, key_id, body, mask=None, expect=200):
    params = {'update_mask': mask} if mask is not None else None
    resp = emulator.talos('PATCH', ISSUE + '/' + key_id, params=params, json=body)
    assert resp.status_code == expect, resp.text
    return resp


def _now():
    return datetime.now(timezone.utc)


# ----- PATCH -----
def test_patch_with_mask_bare_and_wrapped(emu, actor):
    key = emu.issue(actor_id=actor, ttl='1h', **FULL)['issued_api_key']
    resp = _patch(emu, key['key_id'], {'name': 'renamed', 'scopes': ['ignored']}, mask='name')
    updated = sdk(IssuedApiKey, resp.json())
    assert updated.name == 'renamed'
    assert updated.scopes == ['a', 'b']
    assert updated.update_time >= updated.create_time
    assert updated.expire_time.isoformat() == datetime.fromisoformat(key['expire_time'].replace('Z', '+00:00')).isoformat()

    resp = _patch(emu, key['key_id'], {'issued_api_key': {'scopes': ['c'], 'metadata': {'env': 'dev'}}}, mask='scopes,metadata')
    updated = sdk(IssuedApiKey, resp.json())
    assert updated.scopes == ['c'] and updated.metadata == {'env': 'dev'} and updated.name == 'renamed'
    assert emu.get_key(key['key_id']) == resp.json()


def test_patch_mask_path_absent_from_body_is_cleared(emu, actor):
    key = emu.issue(actor_id=actor, **FULL)['issued_api_key']
    resp = _patch(emu, key['key_id'], {}, mask='name,scopes,metadata,rate_limit_policy,ip_restriction')
    body = resp.json()
    assert body['name'] == '' and body['scopes'] == [] and body['metadata'] == {}
    assert 'rate_limit_policy' not in body
    assert body.get('ip_restriction', {'allowed_cidrs': []}) == {'allowed_cidrs': []}
    assert body['actor_id'] == actor
    sdk(IssuedApiKey, body)


def test_patch_without_mask_applies_populated_fields(emu, actor):
    key = emu.issue(actor_id=actor, **FULL)['issued_api_key']
    resp = _patch(emu, key['key_id'], {'scopes': [], 'rate_limit_policy': {'quota': 9, 'window': '3600s', 'unit': 'requests'}})
    body = resp.json()
    assert body['scopes'] == []
    assert body['rate_limit_policy'] == {'quota': '9', 'window': '3600s', 'unit': 'requests'}
    assert body['name'] == 'full' and body['metadata'] == {'env': 'prod'}
    # what the SDK sends for AdminUpdateIssuedApiKeyRequest(name=...): enum zero values do not count as set
    resp = _patch(emu, key['key_id'], {'name': 'sdk', 'status': 'KEY_STATUS_UNSPECIFIED', 'visibility': 'KEY_VISIBILITY_UNSPECIFIED',
                                       'revocation_reason': 'REVOCATION_REASON_UNSPECIFIED'})
    assert resp.json()['name'] == 'sdk'


@pytest.mark.parametrize('mask', ['expire_time', 'actor_id', 'visibility', 'status', 'name,actor_id', 'key_id', 'bogus', 'rate_limit_policy.quota'])
def test_patch_immutable_mask_paths_rejected_before_lookup(emu, mask):
    resp = emu.talos('PATCH', ISSUE + '/' + str(uuid.uuid4()), params={'update_mask': mask}, json={'name': 'x'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')


@pytest.mark.parametrize('body', [{'actor_id': 'someone'}, {'expire_time': '2030-01-01T00:00:00Z'}, {'visibility': 'KEY_VISIBILITY_PUBLIC'}])
def test_patch_without_mask_rejects_immutable_fields(emu, actor, body):
    key = emu.issue(name='imm', actor_id=actor)['issued_api_key']
    resp = _patch(emu, key['key_id'], body, expect=400)
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    assert emu.get_key(key['key_id']) == key


def test_patch_unknown_and_invalid(emu, actor):
    resp = emu.talos('PATCH', ISSUE + '/' + str(uuid.uuid4()), params={'update_mask': 'name'}, json={'name': 'x'})
    assert_aip(resp, 404, 'NOT_FOUND', 'API_KEY_NOT_FOUND')
    key = emu.issue(name='inv', actor_id=actor)['issued_api_key']
    for body in ({'scopes': 'x'}, {'name': 5}, {'ip_restriction': {'allowed_cidrs': ['300.0.0.0/8']}}, {'metadata': {'b': 'x' * 70000}}):
        resp = _patch(emu, key['key_id'], body, expect=400)
        assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')


def test_patch_revoked_key_is_allowed(emu, actor):
    key = emu.issue(name='r', actor_id=actor)['issued_api_key']
    emu.revoke(key['key_id'])
    body = _patch(emu, key['key_id'], {'name': 'after'}, mask='name').json()
    assert body['name'] == 'after' and body['status'] == 'KEY_STATUS_REVOKED'


# ----- revoke -----
def test_revoke_rules(emu, actor):
    key = emu.issue(name='rv', actor_id=actor, ttl='1h')['issued_api_key']
    path = '%s/%s:revoke' % (ISSUE, key['key_id'])
    for body in ({}, {'reason': 'REVOCATION_REASON_UNSPECIFIED'}, {'reason': 'REVOCATION_REASON_KEY_COMPROMISE', 'description': 'why'},
                 {'description': 'only text'}, {'reason': 'NOPE'}, {'reason': ['x']}):
        assert_aip(emu.talos('POST', path, json=body), 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    resp = emu.talos('POST', path, json={'reason': 'REVOCATION_REASON_KEY_COMPROMISE', 'description': 'x'})
    assert resp.json()['error']['message'] == 'description is only allowed when reason is PRIVILEGE_WITHDRAWN'
    # description check happens before the lookup
    missing = '%s/%s:revoke' % (ISSUE, uuid.uuid4())
    assert_aip(emu.talos('POST', missing, json={'reason': 'REVOCATION_REASON_SUPERSEDED', 'description': 'x'}), 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    assert_aip(emu.talos('POST', missing, json={'reason': 'REVOCATION_REASON_SUPERSEDED'}), 404, 'NOT_FOUND', 'API_KEY_NOT_FOUND')

    before = _now()
    emu.revoke(key['key_id'], reason='REVOCATION_REASON_PRIVILEGE_WITHDRAWN', description='left the team')
    got = sdk(IssuedApiKey, emu.get_key(key['key_id']))
    assert got.status == KeyStatus.KEY_STATUS_REVOKED
    assert got.revocation_reason == RevocationReason.REVOCATION_REASON_PRIVILEGE_WITHDRAWN
    assert got.revocation_description == 'left the team'
    # expire_time moves to max(now + 30d, old expiry)
    assert abs(got.expire_time - (before + timedelta(days=30))) < timedelta(seconds=5)
    assert_aip(emu.talos('POST', path, json={'reason': 'REVOCATION_REASON_KEY_COMPROMISE'}), 409, 'ALREADY_EXISTS', 'CONFLICT', 'key is already revoked')


def test_revoke_keeps_later_expiry_and_legacy_alias(emu, actor):
    key = emu.issue(name='long', actor_id=actor, ttl='365d')['issued_api_key']
    resp = emu.talos('POST', '/v2alpha1/admin/apiKeys/%s:revoke' % key['key_id'], json={'reason': 'REVOCATION_REASON_AFFILIATION_CHANGED'})
    assert resp.status_code == 204 and resp.content == b''
    got = emu.get_key(key['key_id'])
    assert got['expire_time'] == key['expire_time']
    assert got['revocation_reason'] == 'REVOCATION_REASON_AFFILIATION_CHANGED'
    assert 'revocation_description' not in got


# ----- rotate -----
def test_rotate_inherits_and_supersedes(emu, actor):
    old = emu.issue(actor_id=actor, ttl='100h', **FULL)
    old_key = old['issued_api_key']
    resp = emu.talos('POST', '%s/%s:rotate' % (ISSUE, old_key['key_id']), json={})
    assert resp.status_code == 201, resp.text
    rotated = sdk(RotateIssuedApiKeyResponse, resp.json())
    new, prev = rotated.issued_api_key, rotated.old_issued_api_key
    assert new.key_id != old_key['key_id'] and prev.key_id == old_key['key_id']
    assert rotated.secret.startswith('ory_ak_v1_') and rotated.secret != old['secret']
    assert resp.json()['issued_api_key']['expire_time'] == old_key['expire_time']
    assert new.actor_id == actor and new.name == 'full' and new.scopes == ['a', 'b'] and new.metadata == {'env': 'prod'}
    assert new.rate_limit_policy.quota == '5' and new.ip_restriction.allowed_cidrs == ['10.0.0.0/8']
    assert new.status == KeyStatus.KEY_STATUS_ACTIVE
    assert prev.status == KeyStatus.KEY_STATUS_REVOKED
    assert prev.revocation_reason == RevocationReason.REVOCATION_REASON_SUPERSEDED
    assert_timestamps(resp.json()['issued_api_key'], 'create_time', 'update_time', 'expire_time')

    assert emu.verify(rotated.secret)['is_valid'] is True
    assert emu.verify(old['secret'])['error_code'] == 'VERIFICATION_ERROR_REVOKED'
    assert emu.get_key(old_key['key_id'])['revocation_reason'] == 'REVOCATION_REASON_SUPERSEDED'

    again = emu.talos('POST', '%s/%s:rotate' % (ISSUE, old_key['key_id']), json={})
    assert_aip(again, 409, 'FAILED_PRECONDITION', 'FAILED_PRECONDITION', 'cannot rotate a non-active key')


def test_rotate_presence_based_overrides(emu, actor):
    old = emu.issue(actor_id=actor, **FULL)['issued_api_key']
    resp = emu.talos('POST', '%s/%s:rotate' % (ISSUE, old['key_id']),
                     json={'name': '', 'scopes': [], 'metadata': {}, 'visibility': 'KEY_VISIBILITY_PUBLIC'})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    new = body['issued_api_key']
    assert new['name'] == '' and new['scopes'] == [] and new['metadata'] == {}
    assert new['rate_limit_policy'] == {'quota': '5', 'window': '60s', 'unit': 'requests'}
    assert new['visibility'] == 'KEY_VISIBILITY_PUBLIC' and body['secret'].startswith('ory_pk_v1_')
    assert new['actor_id'] == actor and new['expire_time'] == old['expire_time']
    assert sdk(IssuedApiKey, new).visibility == KeyVisibility.KEY_VISIBILITY_PUBLIC


def test_rotate_unknown_and_invalid(emu, actor):
    resp = emu.talos('POST', '%s/%s:rotate' % (ISSUE, uuid.uuid4()), json={})
    assert_aip(resp, 404, 'NOT_FOUND', 'API_KEY_NOT_FOUND')
    key = emu.issue(name='x', actor_id=actor)['issued_api_key']
    resp = emu.talos('POST', '%s/%s:rotate' % (ISSUE, key['key_id']), json={'scopes': 'x'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    assert emu.get_key(key['key_id'])['status'] == 'KEY_STATUS_ACTIVE'


# ----- self-revoke -----
def test_self_revoke(emu, actor):
    body = emu.issue(name='self', actor_id=actor)
    path = '/v2alpha1/apiKeys:selfRevoke'
    resp = emu.talos('POST', path, key=None, json={'credential': body['secret'], 'reason': 'REVOCATION_REASON_PRIVILEGE_WITHDRAWN'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    resp = emu.talos('POST', path, key=None, json={'credential': '', 'reason': 'REVOCATION_REASON_KEY_COMPROMISE'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'CREDENTIAL_REQUIRED')
    resp = emu.talos('POST', path, key=None, json={'credential': 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'reason': 'REVOCATION_REASON_KEY_COMPROMISE'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'DERIVED_TOKEN_NOT_REVOCABLE')
    resp = emu.talos('POST', path, key=None, json={'credential': 'ory_ak_v1_unknown_x', 'reason': 'REVOCATION_REASON_KEY_COMPROMISE'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'INVALID_API_KEY_FORMAT')
    tampered = body['secret'][:-1] + ('2' if body['secret'][-1] != '2' else '3')
    resp = emu.talos('POST', path, key=None, json={'credential': tampered, 'reason': 'REVOCATION_REASON_KEY_COMPROMISE'})
    assert_aip(resp, 404, 'NOT_FOUND', 'API_KEY_NOT_FOUND')
    for dummy in range(2):  # already revoked keys succeed too
        resp = emu.talos('POST', path, key=None, json={'credential': body['secret'], 'reason': 'REVOCATION_REASON_KEY_COMPROMISE'})
        assert resp.status_code == 200, resp.text
        assert resp.json() == {}
    got = emu.get_key(body['issued_api_key']['key_id'])
    assert got['status'] == 'KEY_STATUS_REVOKED' and got['revocation_reason'] == 'REVOCATION_REASON_KEY_COMPROMISE'


def test_self_revoke_public_key_forbidden(emu, actor):
    body = emu.issue(name='pub', actor_id=actor, visibility='KEY_VISIBILITY_PUBLIC')
    resp = emu.talos('POST', '/v2alpha1/apiKeys:selfRevoke', key=None, json={'credential': body['secret'], 'reason': 'REVOCATION_REASON_KEY_COMPROMISE'})
    assert_aip(resp, 403, 'PERMISSION_DENIED', 'FORBIDDEN')
    assert emu.verify(body['secret'])['is_valid'] is True


# ----- expiry through the emulator clock -----
def test_clock_advance_expires_keys(fresh):
    short = fresh.issue(name='short', actor_id='clock', ttl='1h')
    long_ = fresh.issue(name='long', actor_id='clock', ttl='30d')
    clock = fresh.advance('2h')
    assert clock['offset_seconds'] == 7200
    got = sdk(IssuedApiKey, fresh.get_key(short['issued_api_key']['key_id']))
    assert got.status == KeyStatus.KEY_STATUS_EXPIRED
    result = sdk(VerifyApiKeyResponse, fresh.verify(short['secret']))
    assert result.is_valid is False and result.error_code.value == 'VERIFICATION_ERROR_EXPIRED'
    assert fresh.verify(long_['secret'])['is_valid'] is True
    listed = fresh.talos('GET', ISSUE).json()['issued_api_keys']
    assert {key['name']: key['status'] for key in listed} == {'short': 'KEY_STATUS_EXPIRED', 'long': 'KEY_STATUS_ACTIVE'}
    # EXPIRED is computed, never stored: the status filter only knows stored states
    page = fresh.talos('GET', ISSUE, params={'filter': 'actor_id="clock" AND status=KEY_STATUS_EXPIRED'}).json()
    assert page['issued_api_keys'] == []
    # a stored-ACTIVE key still rotates (the new key inherits the past expiry)
    resp = fresh.talos('POST', '%s/%s:rotate' % (ISSUE, short['issued_api_key']['key_id']), json={})
    assert resp.status_code == 201
    assert resp.json()['issued_api_key']['status'] == 'KEY_STATUS_EXPIRED'
    # new keys are stamped with the emulator's clock
    fresh_key = sdk(IssuedApiKey, fresh.issue(name='later', ttl='1h')['issued_api_key'])
    assert fresh_key.create_time > datetime.now(timezone.utc) + timedelta(minutes=110)
    clock = fresh.admin('POST', '/clock', json={'offset_seconds': 0}).json()
    assert clock['offset_seconds'] == 0
    assert fresh.verify(short['secret'])['is_valid'] is False  # rotated away
    assert fresh.admin('GET', '/clock').json()['offset_seconds'] == 0
