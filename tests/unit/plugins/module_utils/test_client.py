"""Unit tests for the shared HTTP client: error envelopes, retries, recovery of lost writes, paging, redaction."""
from __future__ import annotations

import pytest
import requests

from ansible_collections.ory.network.plugins.module_utils import _client
from ansible_collections.ory.network.plugins.module_utils._client import OryApiError, OryClient, backoff_delay, parse_error, redact
from ansible_collections.ory.network.tests.unit.fake_transport import FakeApi, FakeResponse, install

SECRET = 'ory_pat_' + 'S3cr3tValue' * 3


@pytest.fixture(name='api')
def fixture_api(monkeypatch):
    return install(monkeypatch, FakeApi())


def client(retries=3):
    return OryClient('https://api.example.test', SECRET, retries=retries, timeout=10)


def talos_error(code, status, reason, message):
    return {'error': {'code': code, 'status': status, 'message': message,
                      'details': [{'@type': 'type.googleapis.com/google.rpc.ErrorInfo', 'reason': reason, 'domain': 'www.ory.com/talos'}]}}


def herodot_error(code, status, error_id, reason, message, request='req-1'):
    return {'error': {'id': error_id, 'code': code, 'status': status, 'reason': reason, 'message': message, 'request': request}}


def test_talos_envelope_gives_reason_code(api):
    api.route('POST', '/v2alpha1/admin/issuedApiKeys', lambda r: FakeResponse(402, talos_error(
        402, 'PERMISSION_DENIED', 'API_KEY_QUOTA_EXCEEDED', 'the API key quota for this plan permits up to 5 active API keys')))
    with pytest.raises(OryApiError) as info:
        client().request('POST', '/v2alpha1/admin/issuedApiKeys', body={}, expected=(201,))
    assert info.value.status == 402
    assert info.value.reason == 'API_KEY_QUOTA_EXCEEDED'
    assert str(info.value) == ('POST /v2alpha1/admin/issuedApiKeys failed: HTTP 402 API_KEY_QUOTA_EXCEEDED: '
                               'the API key quota for this plan permits up to 5 active API keys.')
    assert len(api.calls) == 1, 'a 402 is not retried'


def test_herodot_envelope_gives_id_reason_and_request(api):
    api.route('GET', '/projects/p/tokens', lambda r: FakeResponse(403, herodot_error(
        403, 'Forbidden', 'feature_not_available', 'This plan does not include the feature.', 'The requested action was forbidden', 'abc-123')))
    with pytest.raises(OryApiError) as info:
        client().request('GET', '/projects/p/tokens')
    text = str(info.value)
    assert 'HTTP 403 FEATURE_NOT_AVAILABLE' in text
    assert 'This plan does not include the feature' in text
    assert text.endswith('(request id abc-123).')


def test_empty_429_body_is_understood():
    response = FakeResponse(429, None, headers={'x-ratelimit-reset': '7'})
    error = parse_error('GET', '/x', response)
    assert error.status == 429 and error.reason == 'RATE_LIMITED'
    assert 'x-ratelimit-reset 7s' in str(error)


def test_secrets_are_scrubbed_from_messages():
    response = FakeResponse(400, talos_error(400, 'INVALID_ARGUMENT', 'BAD_REQUEST', 'bad credential %s' % SECRET))
    error = parse_error('POST', '/v2alpha1/admin/apiKeys:verify', response)
    assert SECRET not in str(error)
    assert 'ory_pat_***' in str(error)
    assert redact('a ory_ak_v1_abcdef_ghijkl b') == 'a ory_ak_*** b'


def test_get_is_retried_on_503_with_backoff(api):
    api.fail_next('GET', '/projects/p/tokens', FakeResponse(503, None), times=2)
    api.route('GET', '/projects/p/tokens', lambda r: FakeResponse(200, []))
    assert client().request('GET', '/projects/p/tokens') == []
    assert len(api.calls) == 3
    assert len(api.sleeps) == 2 and api.sleeps[1] > api.sleeps[0] * 1.0 - 1e-9


def test_retries_are_bounded(api):
    api.fail_next('GET', '/x', FakeResponse(503, None), times=10)
    with pytest.raises(OryApiError) as info:
        client(retries=2).request('GET', '/x')
    assert info.value.status == 503
    assert len(api.calls) == 3


def test_rate_limited_write_is_resent_because_it_never_reached_the_api(api):
    api.fail_next('POST', '/projects/p/tokens', FakeResponse(429, None, headers={'x-ratelimit-reset': '2'}))
    api.route('POST', '/projects/p/tokens', lambda r: FakeResponse(201, {'id': '1'}))
    assert client().request('POST', '/projects/p/tokens', body={'name': 'a'}, expected=(201,)) == {'id': '1'}
    assert len(api.writes()) == 2
    assert api.sleeps[0] >= 2, 'x-ratelimit-reset is honoured'


def test_ambiguous_write_failure_is_not_resent_blindly(api):
    api.fail_next('POST', '/projects/p/tokens', FakeResponse(502, None))
    api.route('POST', '/projects/p/tokens', lambda r: FakeResponse(201, {'id': '1'}))
    with pytest.raises(OryApiError):
        client().request('POST', '/projects/p/tokens', body={'name': 'a'}, expected=(201,))
    assert len(api.writes()) == 1


def test_lost_write_response_is_recovered_by_rereading(api):
    api.route('POST', '/projects/p/tokens', lambda r: FakeResponse(201, {'id': '1'}))
    api.fail_next('POST', '/projects/p/tokens', requests.exceptions.ConnectionError('Connection aborted.'), commit=True)
    outcome = client().request('POST', '/projects/p/tokens', body={'name': 'a'}, expected=(201,), recover=lambda: {'id': 'found'})
    assert outcome == {'id': 'found'}
    assert len(api.writes()) == 1, 'recovered from the re-read, not by sending again'


def test_recover_returning_none_sends_again(api):
    api.route('POST', '/projects/p/tokens', lambda r: FakeResponse(201, {'id': '2'}))
    api.fail_next('POST', '/projects/p/tokens', FakeResponse(504, None))
    outcome = client().request('POST', '/projects/p/tokens', body={'name': 'a'}, expected=(201,), recover=lambda: None)
    assert outcome == {'id': '2'}
    assert len(api.writes()) == 2


def test_refused_connection_is_retried_even_for_writes(api):
    api.fail_next('POST', '/projects/p/tokens', requests.exceptions.ConnectionError('NewConnectionError: Connection refused'))
    api.route('POST', '/projects/p/tokens', lambda r: FakeResponse(201, {'id': '3'}))
    assert client().request('POST', '/projects/p/tokens', body={'name': 'a'}, expected=(201,)) == {'id': '3'}


def test_connection_error_message_has_no_credential(api):
    api.fail_next('GET', '/x', requests.exceptions.ConnectionError('Connection aborted. %s' % SECRET), times=5)
    with pytest.raises(OryApiError) as info:
        client(retries=1).request('GET', '/x')
    assert SECRET not in str(info.value)
    assert 'broke before a response arrived' in str(info.value)


def test_authorization_header_is_set_once_on_the_session(api):
    api.route('GET', '/x', lambda r: FakeResponse(200, {'ok': True}))
    client().request('GET', '/x')
    assert api.session_headers['Authorization'] == 'Bearer ' + SECRET
    assert all('Authorization' not in call[4] for call in api.calls)


def test_paginate_follows_tokens_with_large_pages(api):
    pages = {None: (['a', 'b'], 't1'), 't1': (['c'], '')}

    def page(request):
        items, token = pages[request.params.get('page_token')]
        assert request.params['page_size'] == 1000
        return FakeResponse(200, {'issued_api_keys': [{'key_id': k} for k in items], 'next_page_token': token})
    api.route('GET', '/v2alpha1/admin/issuedApiKeys', page)
    found = [k['key_id'] for k in client().paginate('/v2alpha1/admin/issuedApiKeys', 'issued_api_keys')]
    assert found == ['a', 'b', 'c']
    assert len(api.calls) == 2


def no_jitter():
    return 0.0


def test_backoff_grows_and_honours_server_hint():
    assert backoff_delay(1, rng=no_jitter) == 0.5
    assert backoff_delay(3, rng=no_jitter) == 2.0
    assert backoff_delay(20, rng=no_jitter) == _client.MAX_BACKOFF
    hinted = FakeResponse(429, None, headers={'x-ratelimit-reset': '9'})
    assert backoff_delay(1, hinted, rng=no_jitter) == 9.0
    capped = FakeResponse(429, None, headers={'retry-after': '600'})
    assert backoff_delay(1, capped, rng=no_jitter) == _client.MAX_BACKOFF


def test_non_json_success_body_is_an_error(api):
    api.route('GET', '/x', lambda r: FakeResponse(200, raw='<html>'))
    with pytest.raises(OryApiError) as info:
        client().request('GET', '/x')
    assert info.value.reason == 'INVALID_RESPONSE'
