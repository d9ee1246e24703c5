# Bad requests anywhere get the plane's 4xx envelope: never a 500, a traceback or a hung connection.
from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

from .helpers import ISSUE, VERIFY

KEY = '3f2b8c1e-9d4a-4b6e-8f1a-2c3d4e5f6a7b'  # fixed, so xdist workers collect the same test ids
TALOS_ENDPOINTS = [
    ('POST', ISSUE), ('GET', ISSUE), ('GET', ISSUE + '/' + KEY), ('PATCH', ISSUE + '/' + KEY), ('POST', ISSUE + '/%s:revoke' % KEY),
    ('POST', ISSUE + '/%s:rotate' % KEY), ('POST', VERIFY), ('POST', '/v2alpha1/admin/apiKeys:batchVerify'),
    ('POST', '/v2alpha1/apiKeys:selfRevoke'), ('POST', '/v2alpha1/admin/apiKeys/%s:revoke' % KEY),
]
CONSOLE_ENDPOINTS = [
    ('POST', '/projects/{project}/tokens'), ('GET', '/projects/{project}/tokens'), ('DELETE', '/projects/{project}/tokens/' + KEY),
    ('GET', '/workspaces/{workspace}/tokens'), ('POST', '/workspaces/{workspace}/tokens'),
]
BAD_BODIES = [
    b'{', b'[]', b'"text"', b'42', b'null', b'true', b'\xff\xfe\x00', b'{"name": "x", }', b'{"a": NaN}',
    json.dumps({'name': 5, 'actor_id': {}, 'scopes': 'x', 'metadata': [], 'ttl': 1, 'request_id': 7, 'visibility': True,
                'rate_limit_policy': 'x', 'ip_restriction': [], 'credential': 9, 'requests': {}, 'reason': 3.5,
                'description': [], 'expires_at': {}, 'expected_audiences': 'x', 'issued_api_key': 'x'}).encode(),
    json.dumps({'scopes': [None], 'metadata': {'a': float(2 ** 60)}, 'rate_limit_policy': {'quota': 2 ** 70, 'window': 5, 'unit': 1},
                'ip_restriction': {'allowed_cidrs': [1]}, 'reason': 99, 'visibility': -1, 'requests': [1, 'x']}).encode(),
    json.dumps({'name': '\u00e9\u2603\U0001F600' * 50, 'ttl': '9' * 400 + 'h', 'credential': '\x00\x01', 'expires_at': 'never',
                'reason': 'REVOCATION_REASON_PRIVILEGE_WITHDRAWN', 'requests': [{'credential': ''}]}).encode(),
]


def _check(resp, plane):
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    err = resp.json()['error']
    if plane == 'talos' and resp.status_code not in (401, 403):
        assert {'code', 'message', 'status', 'details'} == set(err)
    else:
        assert {'id', 'code', 'status', 'reason', 'message', 'request'} <= set(err)
    assert err['code'] == resp.status_code


@pytest.mark.parametrize('method,path', TALOS_ENDPOINTS)
def test_talos_bad_bodies(emu, method, path):
    for body in BAD_BODIES:
        resp = emu.talos(method, path, data=body, headers={'Content-Type': 'application/json'},
                         params={'update_mask': 'name'} if method == 'PATCH' else None)
        if resp.status_code in (200, 201, 204):
            continue  # GETs ignore the body; a lenient parse may still succeed
        _check(resp, 'talos')


@pytest.mark.parametrize('method,template', CONSOLE_ENDPOINTS)
def test_console_bad_bodies(emu, method, template):
    path = template.format(project=emu.info['project_id'], workspace=emu.info['workspace_id'])
    for body in BAD_BODIES:
        resp = emu.console(method, path, data=body, headers={'Content-Type': 'application/json'})
        if method in ('GET',) and resp.status_code == 200:
            continue
        _check(resp, 'console')


@pytest.mark.parametrize('query', [
    {'page_size': 'x'}, {'page_size': '99999999999999999999'}, {'page_token': '%%%'}, {'page_token': 'a.b'},
    {'filter': '"'}, {'filter': '=' * 10}, {'filter': 'actor_id="a" AND status=KEY_STATUS_ACTIVE AND'},
])
def test_list_bad_queries(emu, query):
    _check(emu.talos('GET', ISSUE, params=query), 'talos')


def test_unknown_routes_and_methods(emu):
    _check(emu.talos('GET', '/v2alpha1/admin/unknown'), 'talos')
    _check(emu.talos('DELETE', ISSUE + '/' + KEY), 'talos')
    _check(emu.talos('PUT', ISSUE), 'talos')
    _check(emu.console('GET', '/projects'), 'console')
    _check(emu.console('PUT', '/projects/%s/tokens' % emu.info['project_id']), 'console')
    _check(emu.console('GET', '/'), 'console')
    resp = emu.talos('GET', ISSUE + '/%3Arevoke')
    assert resp.status_code in (400, 404, 405)


def test_raw_http_edge_cases(emu):
    """Chunked bodies, oversize bodies and garbage request lines are answered (or closed), never crash the server."""
    url = urlsplit(emu.info['project_url'])
    host, port = url.hostname, url.port
    auth = 'Authorization: Bearer %s\r\n' % emu.info['project_api_key']
    body = json.dumps({'name': 'chunked', 'actor_id': 'raw'}).encode()
    chunked = b'%x\r\n%s\r\n0\r\n\r\n' % (len(body), body)
    raw = ('POST %s%s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'
           % (url.path, ISSUE, auth)).encode() + chunked
    assert _raw(host, port, raw).startswith(b'HTTP/1.1 201')
    huge = ('POST %s%s HTTP/1.1\r\nHost: x\r\n%sContent-Length: 999999999\r\nConnection: close\r\n\r\n' % (url.path, ISSUE, auth)).encode()
    assert _raw(host, port, huge).startswith(b'HTTP/1.1 4')
    assert _raw(host, port, b'BLAH\r\n\r\n').startswith(b'HTTP/1.1 400')
    assert _raw(host, port, b'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n').startswith(b'HTTP/1.1 501')
    assert b'"code": 501' in _raw(host, port, b'OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n')
    bad_len = ('POST %s%s HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n' % (url.path, ISSUE)).encode()
    assert _raw(host, port, bad_len).startswith(b'HTTP/1.1 400')
    assert emu.admin('GET', '/health').status_code == 200


def _raw(host, port, payload):
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b''.join(chunks)


@pytest.mark.parametrize('raw', [
    b'{"name": "x", "metadata": {"n": NaN}}',
    b'{"name": "x", "metadata": {"n": Infinity}}',
    b'{"name": "\\ud800"}',
    b'{"metadata": ' + b'[' * 5000 + b']' * 5000 + b'}',
])
def test_issue_rejects_unrepresentable_json(emu, raw):
    resp = emu.talos('POST', ISSUE, data=raw, headers={'Content-Type': 'application/json'})
    _check(resp, 'talos')
    resp = emu.talos('POST', VERIFY, data=raw.replace(b'"name"', b'"credential"'), headers={'Content-Type': 'application/json'})
    _check(resp, 'talos')


def test_out_of_range_times(emu, fresh):
    resp = emu.console('POST', '/projects/%s/tokens' % emu.info['project_id'], json={'name': 'x', 'expires_at': '9999-12-31T23:59:59-01:00'})
    _check(resp, 'console')
    assert fresh.admin('POST', '/clock', json={'offset_seconds': 10 ** 12}).status_code == 400
    assert fresh.admin('POST', '/clock', json={'advance': '9999y'}).status_code == 400
    assert fresh.admin('GET', '/clock').json()['offset_seconds'] == 0
