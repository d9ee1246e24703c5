"""A fake HTTP transport for unit tests: replaces requests.Session inside the collection's client.

Usage in a test:
    api = FakeApi()
    api.route('GET', r'/projects/(?P<project>[^/]+)/tokens', handler)   # handler(request, **groups) -> FakeResponse
    install(monkeypatch, api)
Every request is recorded in api.calls as (method, path, params, body, headers).
"""
from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from ansible_collections.ory.network.plugins.module_utils import _client


class FakeResponse:
    def __init__(self, status_code=200, body=None, headers=None, raw=None):
        self.status_code = status_code
        if raw is not None:
            self.content = raw.encode() if isinstance(raw, str) else raw
        elif body is None:
            self.content = b''
        else:
            self.content = json.dumps(body).encode()
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.reason = {200: 'OK', 201: 'Created', 204: 'No Content', 404: 'Not Found'}.get(status_code, 'Error')

    def json(self):
        return json.loads(self.content)


class Request:
    def __init__(self, method, path, params, body, headers):
        self.method = method
        self.path = path
        self.params = params or {}
        self.body = body
        self.headers = headers


class FakeApi:
    def __init__(self):
        self.routes = []
        self.calls = []
        self.session_headers = {}
        self.queued = []  # list of (method, path regex, outcome): outcome is a FakeResponse or an exception, consumed once

    def route(self, method, pattern, handler):
        self.routes.append((method, re.compile(pattern + r'$'), handler))

    def fail_next(self, method, pattern, outcome, times=1, commit=False):
        """Make the next ``times`` matching requests fail with ``outcome`` (FakeResponse or exception).

        With commit=True the real handler runs first (the write happens) and then the outcome is returned:
        a response lost after the server committed it.
        """
        for dummy in range(times):
            self.queued.append((method, re.compile(pattern + r'$'), outcome, commit))

    def writes(self):
        return [c for c in self.calls if c[0] != 'GET']

    def handle(self, method, url, params=None, data=None, headers=None):
        path = urlsplit(url).path
        body = json.loads(data) if data else None
        self.calls.append((method, path, dict(params or {}), body, dict(headers or {})))
        request = Request(method, path, params, body, dict(self.session_headers, **(headers or {})))
        for index, (qmethod, regex, outcome, commit) in enumerate(self.queued):
            if qmethod == method and regex.search(path):
                del self.queued[index]
                if commit:
                    self._dispatch(request)
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome
        return self._dispatch(request)

    def _dispatch(self, request):
        for method, regex, handler in self.routes:
            match = regex.search(request.path)
            if method == request.method and match:
                return handler(request, **match.groupdict())
        return FakeResponse(404, {'error': {'code': 404, 'status': 'Not Found', 'message': 'no route %s %s' % (request.method, request.path)}})


class FakeSession:
    def __init__(self, api):
        self.api = api
        self.headers = api.session_headers
        self.verify = True

    def request(self, method, url, params=None, data=None, headers=None, timeout=None, verify=None):  # pylint: disable=unused-argument
        return self.api.handle(method, url, params=params, data=data, headers=headers)


def install(monkeypatch, api):
    """Route every client the modules create to ``api``; make retries instant."""
    monkeypatch.setattr(_client.requests, 'Session', lambda: FakeSession(api))
    sleeps = []
    monkeypatch.setattr(_client.time, 'sleep', sleeps.append)
    api.sleeps = sleeps
    return api
