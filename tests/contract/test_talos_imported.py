# Talos imported API keys (contract 4.11): import, batch import, get, list, update, revoke, delete, verify routing.
from __future__ import annotations

import hashlib
import uuid

import pytest
import ory_client
from ory_client.exceptions import ApiException, ConflictException, NotFoundException
from ory_client.models import (AdminRevokeImportedApiKeyBody, AdminUpdateImportedApiKeyRequest, BatchCreateImportedApiKeysErrorCode,
                               BatchCreateImportedApiKeysRequest, BatchCreateImportedApiKeysResponse, ImportApiKeyRequest, ImportedApiKey,
                               KeyStatus, ListImportedApiKeysResponse, RevocationReason, VerifyApiKeyRequest, VerifyApiKeyResponse)

from .helpers import VERIFY, assert_aip, assert_timestamps, sdk

IMPORTED = '/v2alpha1/admin/importedApiKeys'


def key_id_of(emulator, raw_key):
    return hashlib.new('sha512_256', emulator.info['project_id'].encode() + b'\x00' + raw_key.encode()).hexdigest()


def raw(tag='legacy'):
    return 'sk_%s_%s' % (tag, uuid.uuid4().hex)


def imp(emulator, expect=201, **body):
    resp = emulator.talos('POST', IMPORTED, json=body)
    assert resp.status_code == expect, resp.text
    return resp


def test_import_returns_the_bare_key_with_the_hashed_id(emu, actor):
    raw_key = raw()
    resp = imp(emu, raw_key=raw_key, name='legacy', actor_id=actor, scopes=['read'], ttl='720h', metadata={'source': 'old'})
    body = resp.json()
    key = sdk(ImportedApiKey, body)
    assert key.key_id == key_id_of(emu, raw_key) and len(key.key_id) == 64
    assert key.status == KeyStatus.KEY_STATUS_ACTIVE and key.scopes == ['read'] and key.metadata == {'source': 'old'}
    assert 'raw_key' not in body and 'secret' not in body and raw_key not in resp.text
    assert_timestamps(body, 'create_time', 'update_time', 'expire_time')
    got = emu.talos('GET', IMPORTED + '/' + key.key_id)
    assert got.status_code == 200 and got.json() == body


@pytest.mark.parametrize('missing', ['raw_key', 'name', 'actor_id'])
def test_import_requires_raw_key_name_and_actor(emu, actor, missing):
    body = {'raw_key': raw(), 'name': 'n', 'actor_id': actor}
    del body[missing]
    assert_aip(imp(emu, 400, **body), 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')


def test_duplicate_import_is_409_unless_same_request_id(emu, actor):
    raw_key = raw()
    request_id = str(uuid.uuid4())
    first = imp(emu, raw_key=raw_key, name='dup', actor_id=actor, request_id=request_id).json()
    assert_aip(imp(emu, 409, raw_key=raw_key, name='dup', actor_id=actor), 409, 'ALREADY_EXISTS', 'API_KEY_EXISTS',
               'key already imported (duplicate detected)')
    replay = imp(emu, raw_key=raw_key, name='other', actor_id=actor, request_id=request_id).json()
    assert replay == first


def test_issued_shaped_jwt_and_macaroon_keys_are_refused(emu, actor):
    issued = emu.issue(name='real', actor_id=actor)['secret']
    err = assert_aip(imp(emu, 409, raw_key=issued, name='x', actor_id=actor), 409, 'FAILED_PRECONDITION', 'FAILED_PRECONDITION')
    assert 'issued api key pattern' in err['message']
    jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'
    assert_aip(imp(emu, 409, raw_key=jwt, name='x', actor_id=actor), 409, 'FAILED_PRECONDITION', 'FAILED_PRECONDITION')
    assert_aip(imp(emu, 409, raw_key='mc_v1_abc_def', name='x', actor_id=actor), 409, 'FAILED_PRECONDITION', 'FAILED_PRECONDITION')
    assert_aip(imp(emu, 400, raw_key='x' * 8193, name='x', actor_id=actor), 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')


def test_verify_routes_other_credentials_to_imported_keys(fresh):
    raw_key = raw()
    key_id = imp(fresh, raw_key=raw_key, name='v', actor_id='svc', scopes=['s']).json()['key_id']
    result = sdk(VerifyApiKeyResponse, fresh.verify(raw_key))
    assert result.is_valid is True and result.key_id == key_id and result.scopes == ['s']
    first_use = fresh.talos('GET', IMPORTED + '/' + key_id).json()['last_used_time']
    fresh.verify(raw_key)
    assert fresh.talos('GET', IMPORTED + '/' + key_id).json()['last_used_time'] == first_use  # at most once per day
    fresh.advance('1d')
    fresh.verify(raw_key)
    assert fresh.talos('GET', IMPORTED + '/' + key_id).json()['last_used_time'] > first_use
    assert fresh.verify(raw_key + 'x')['error_code'] == 'VERIFICATION_ERROR_NOT_FOUND'
    assert fresh.talos('POST', IMPORTED + '/' + key_id + ':revoke', json={'reason': 'REVOCATION_REASON_KEY_COMPROMISE'}).status_code == 204
    assert fresh.verify(raw_key)['error_code'] == 'VERIFICATION_ERROR_REVOKED'
    resp = fresh.talos('POST', VERIFY, json={'credential': raw_key})
    assert resp.json()['is_valid'] is False


def test_batch_create_reports_per_item_results(fresh):
    keys = [raw() for dummy in range(3)]
    imp(fresh, raw_key=keys[0], name='pre', actor_id='a')
    items = [{'raw_key': k, 'name': 'b%d' % i, 'actor_id': 'a'} for i, k in enumerate(keys)] + [{'raw_key': raw(), 'name': 'x'}]
    resp = fresh.talos('POST', IMPORTED + ':batchCreate', json={'requests': items})
    assert resp.status_code == 200, resp.text
    body = sdk(BatchCreateImportedApiKeysResponse, resp.json())
    assert (body.success_count, body.failure_count) == (2, 2)
    assert [r.index for r in body.results] == [0, 1, 2, 3]
    assert body.results[0].error_code == BatchCreateImportedApiKeysErrorCode.BATCH_CREATE_IMPORTED_API_KEYS_ERROR_ALREADY_EXISTS
    assert body.results[3].error_code == BatchCreateImportedApiKeysErrorCode.BATCH_CREATE_IMPORTED_API_KEYS_ERROR_INVALID_ARGUMENT
    assert body.results[1].imported_api_key.key_id == key_id_of(fresh, keys[1])
    assert keys[1] not in resp.text


def test_batch_create_all_failing_is_an_error_of_the_dominant_kind(fresh):
    keys = [raw() for dummy in range(2)]
    for k in keys:
        imp(fresh, raw_key=k, name='pre', actor_id='a')
    items = [{'raw_key': k, 'name': 'b', 'actor_id': 'a'} for k in keys] + [{'raw_key': raw()}]
    resp = fresh.talos('POST', IMPORTED + ':batchCreate', json={'requests': items})
    assert_aip(resp, 409, 'ALREADY_EXISTS', 'API_KEY_EXISTS')


def test_batch_create_at_most_1000(fresh):
    items = [{'raw_key': raw(), 'name': 'b', 'actor_id': 'a'} for dummy in range(1001)]
    assert_aip(fresh.talos('POST', IMPORTED + ':batchCreate', json={'requests': items}), 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    fresh.set_project(key_quota=5000)
    resp = fresh.talos('POST', IMPORTED + ':batchCreate', json={'requests': items[:1000]})
    assert resp.status_code == 200 and resp.json()['success_count'] == 1000


def test_quota_counts_issued_and_imported_keys(fresh):
    fresh.set_project(key_quota=2)
    fresh.issue(name='one')
    imp(fresh, raw_key=raw(), name='two', actor_id='a')
    assert_aip(imp(fresh, 402, raw_key=raw(), name='three', actor_id='a'), 402, 'PERMISSION_DENIED', 'API_KEY_QUOTA_EXCEEDED')
    fresh.issue(expect=402, name='three')
    resp = fresh.talos('POST', IMPORTED + ':batchCreate', json={'requests': [{'raw_key': raw(), 'name': 'q', 'actor_id': 'a'}]})
    assert resp.status_code == 402


def test_list_pages_and_filters_like_issued_keys(fresh):
    keys = [imp(fresh, raw_key=raw(), name='k%d' % i, actor_id='a' if i % 2 else 'b').json()['key_id'] for i in range(5)]
    seen, token, pages = [], '', 0
    while True:
        resp = fresh.talos('GET', IMPORTED, params={'page_size': 2, 'page_token': token})
        page = sdk(ListImportedApiKeysResponse, resp.json())
        pages += 1
        seen += [k.key_id for k in page.imported_api_keys]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(keys) and pages == 3
    resp = fresh.talos('GET', IMPORTED, params={'filter': 'actor_id="a"'})
    assert sorted(k['key_id'] for k in resp.json()['imported_api_keys']) == sorted(keys[1::2])
    assert_aip(fresh.talos('GET', IMPORTED, params={'filter': 'status=KEY_STATUS_ACTIVE'}), 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    assert_aip(fresh.talos('GET', IMPORTED, params={'page_token': 'tampered'}), 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    issued = fresh.talos('GET', '/v2alpha1/admin/issuedApiKeys').json()['issued_api_keys']
    assert not set(keys) & {k['key_id'] for k in issued}


def test_update_revoke_delete(fresh):
    key_id = imp(fresh, raw_key=raw(), name='u', actor_id='a', scopes=['r']).json()['key_id']
    path = IMPORTED + '/' + key_id
    resp = fresh.talos('PATCH', path, params={'update_mask': 'name,scopes'}, json={'name': 'renamed'})
    assert resp.status_code == 200 and resp.json()['name'] == 'renamed' and resp.json()['scopes'] == []
    assert_aip(fresh.talos('PATCH', path, params={'update_mask': 'actor_id'}, json={'actor_id': 'x'}), 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    wrapped = fresh.talos('PATCH', path, json={'imported_api_key': {'metadata': {'a': 1}}})
    assert wrapped.status_code == 200 and wrapped.json()['metadata'] == {'a': 1}
    revoke = {'reason': 'REVOCATION_REASON_KEY_COMPROMISE'}
    assert fresh.talos('POST', path + ':revoke', json=revoke).status_code == 204
    assert_aip(fresh.talos('POST', path + ':revoke', json=revoke), 409, 'ALREADY_EXISTS', 'CONFLICT', 'key is already revoked')
    got = fresh.talos('GET', path).json()
    assert got['status'] == 'KEY_STATUS_REVOKED' and got['revocation_reason'] == 'REVOCATION_REASON_KEY_COMPROMISE'
    assert fresh.talos('DELETE', path).status_code == 204
    assert_aip(fresh.talos('GET', path), 404, 'NOT_FOUND', 'API_KEY_NOT_FOUND')
    assert_aip(fresh.talos('DELETE', path), 404, 'NOT_FOUND', 'API_KEY_NOT_FOUND')
    assert_aip(fresh.talos('GET', IMPORTED + '/' + str(uuid.uuid4())), 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')


def test_imported_keys_survive_a_restart(fresh):
    raw_key = raw()
    key_id = imp(fresh, raw_key=raw_key, name='p', actor_id='a').json()['key_id']
    fresh.restart()
    assert fresh.talos('GET', IMPORTED + '/' + key_id).status_code == 200
    assert fresh.verify(raw_key)['is_valid'] is True


def test_sdk_imported_round_trip(emu, actor):
    config = ory_client.Configuration(host=emu.info['project_url'], access_token=emu.info['project_api_key'])
    with ory_client.ApiClient(config) as client:
        api = ory_client.ApiKeysApi(client)
        raw_key = raw('sdk')
        key = api.admin_import_api_key(ImportApiKeyRequest(raw_key=raw_key, name='sdk', actor_id=actor, ttl='24h'))
        assert key.key_id == key_id_of(emu, raw_key)
        assert api.admin_get_imported_api_key(key.key_id).name == 'sdk'
        listed = api.admin_list_imported_api_keys(page_size=10, filter='actor_id="%s"' % actor)
        assert [k.key_id for k in listed.imported_api_keys] == [key.key_id]
        updated = api.admin_update_imported_api_key(key.key_id, AdminUpdateImportedApiKeyRequest(scopes=['w']), update_mask='scopes')
        assert updated.scopes == ['w']
        batch = api.admin_batch_create_imported_api_keys(BatchCreateImportedApiKeysRequest(requests=[
            ImportApiKeyRequest(raw_key=raw('sdk'), name='b', actor_id=actor), ImportApiKeyRequest(raw_key=raw_key, name='b', actor_id=actor)]))
        assert (batch.success_count, batch.failure_count) == (1, 1)
        assert api.admin_verify_api_key(VerifyApiKeyRequest(credential=raw_key)).key_id == key.key_id
        with pytest.raises(ConflictException):
            api.admin_import_api_key(ImportApiKeyRequest(raw_key=raw_key, name='sdk', actor_id=actor))
        body = AdminRevokeImportedApiKeyBody(reason=RevocationReason.REVOCATION_REASON_SUPERSEDED)
        assert api.admin_revoke_imported_api_key(key.key_id, body) is None
        assert api.admin_delete_imported_api_key(key.key_id) is None
        with pytest.raises(NotFoundException):
            api.admin_get_imported_api_key(key.key_id)
        with pytest.raises(ApiException):
            api.admin_batch_create_imported_api_keys(BatchCreateImportedApiKeysRequest(requests=[ImportApiKeyRequest(raw_key=raw_key)]))
