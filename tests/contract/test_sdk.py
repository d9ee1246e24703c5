# The official ory-client SDK against the emulator: every call maps to the documented status and deserialises.
from __future__ import annotations

import pytest
import ory_client
from ory_client.exceptions import ApiException, ConflictException, ForbiddenException, NotFoundException, UnauthorizedException
from ory_client.models import (AdminRevokeIssuedApiKeyBody, AdminRotateIssuedApiKeyBody, AdminUpdateIssuedApiKeyRequest, BatchVerifyApiKeysRequest,
                               CreateProjectApiKeyBody, IssueApiKeyRequest, KeyStatus, RevocationReason, SelfRevokeApiKeyRequest,
                               VerifyApiKeyRequest)


def _client(host, token, console=False):
    config = ory_client.Configuration(host=host, access_token=token)
    if console:
        config.ignore_operation_servers = True  # the SDK pins console calls to api.console.ory.sh otherwise
    return ory_client.ApiClient(config)


def test_sdk_talos_round_trip(emu, actor):
    with _client(emu.info['project_url'], emu.info['project_api_key']) as client:
        api = ory_client.ApiKeysApi(client)
        issued = api.admin_issue_api_key(IssueApiKeyRequest(name='sdk', actor_id=actor, scopes=['r'], ttl='24h', request_id='sdk-' + actor))
        assert issued.secret.startswith('ory_ak_v1_')
        key_id = issued.issued_api_key.key_id
        assert api.admin_get_issued_api_key(key_id).name == 'sdk'
        listed = api.admin_list_issued_api_keys(page_size=10, filter='actor_id="%s"' % actor)
        assert [key.key_id for key in listed.issued_api_keys] == [key_id]
        updated = api.admin_update_issued_api_key(key_id, AdminUpdateIssuedApiKeyRequest(name='sdk-renamed'))
        assert updated.name == 'sdk-renamed' and updated.scopes == ['r']
        updated = api.admin_update_issued_api_key(key_id, AdminUpdateIssuedApiKeyRequest(scopes=['w']), update_mask='scopes')
        assert updated.scopes == ['w']
        assert api.admin_verify_api_key(VerifyApiKeyRequest(credential=issued.secret)).is_valid is True
        batch = api.admin_batch_verify_api_keys(BatchVerifyApiKeysRequest(requests=[VerifyApiKeyRequest(credential=issued.secret)]))
        assert batch.results[0].key_id == key_id

        rotated = api.admin_rotate_issued_api_key(key_id, AdminRotateIssuedApiKeyBody(name='sdk-rotated'))
        assert rotated.old_issued_api_key.status == KeyStatus.KEY_STATUS_REVOKED
        assert rotated.issued_api_key.expire_time == issued.issued_api_key.expire_time
        with pytest.raises(ConflictException):
            api.admin_rotate_issued_api_key(key_id, AdminRotateIssuedApiKeyBody())

        new_id = rotated.issued_api_key.key_id
        reason = AdminRevokeIssuedApiKeyBody(reason=RevocationReason.REVOCATION_REASON_KEY_COMPROMISE)
        assert api.admin_revoke_issued_api_key(new_id, reason) is None
        with pytest.raises(ConflictException) as info:
            api.admin_revoke_issued_api_key(new_id, reason)
        assert '"CONFLICT"' in info.value.body
        with pytest.raises(NotFoundException):
            api.admin_get_issued_api_key('3f2b8c1e-9d4a-4b6e-8f1a-2c3d4e5f6a7b')
        replay = api.admin_issue_api_key(IssueApiKeyRequest(name='sdk', request_id='sdk-' + actor))
        assert replay.secret is None and replay.issued_api_key.key_id == key_id

        other = api.admin_issue_api_key(IssueApiKeyRequest(name='self', actor_id=actor))
        assert api.revoke_api_key(SelfRevokeApiKeyRequest(credential=other.secret,
                                                          reason=RevocationReason.REVOCATION_REASON_KEY_COMPROMISE)) == {}


def test_sdk_quota_is_plain_api_exception(fresh):
    fresh.set_project(key_quota=0)
    with _client(fresh.info['project_url'], fresh.info['project_api_key']) as client:
        with pytest.raises(ApiException) as info:
            ory_client.ApiKeysApi(client).admin_issue_api_key(IssueApiKeyRequest(name='q'))
    assert info.value.status == 402 and 'API_KEY_QUOTA_EXCEEDED' in info.value.body


def test_sdk_console(emu):
    with _client(emu.info['console_url'], emu.info['workspace_api_key'], console=True) as client:
        projects = ory_client.ProjectApi(client)
        created = projects.create_project_api_key(emu.info['project_slug'], CreateProjectApiKeyBody(name='sdk-console'))
        assert created.value.startswith('ory_pat_')
        assert created.id in [key.id for key in projects.list_project_api_keys(emu.info['project_id'])]
        assert projects.delete_project_api_key(emu.info['project_id'], str(created.id)) is None
        with pytest.raises(NotFoundException):
            projects.delete_project_api_key(emu.info['project_id'], str(created.id))
        workspace = ory_client.WorkspaceApi(client)
        keys = workspace.list_workspace_api_keys(emu.info['workspace_id'])
        assert emu.info['workspace_api_key'][-4:] in [key.last_characters for key in keys]
        with pytest.raises(ForbiddenException):
            workspace.create_workspace_api_key(emu.info['workspace_id'])
    with _client(emu.info['console_url'], 'ory_wak_wrong', console=True) as client:
        with pytest.raises(UnauthorizedException):
            ory_client.ProjectApi(client).list_project_api_keys(emu.info['project_id'])
