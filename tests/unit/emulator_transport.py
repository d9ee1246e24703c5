"""The collection's client over the Ory Network emulator in this process, on a fake clock.

Not an API fake: every request goes through the emulator's own dispatch (tests/emulator/server.py), so the
answers are the emulator's (and so the contract's). Only the socket is left out, and time: the emulator's
rate limiter and the client's pacing both read ``FakeClock.now``, and the client's sleeps advance it.

    clock = FakeClock()
    emulator = in_process_emulator(clock, {'projects': [{'slug': 'dev', 'rate_limits': {'plan': 'develop'}}]})
    client = OryClient(project_url(emulator), project_key(emulator), sleep=clock.sleep, clock=clock.now,
                       session=EmulatorSession(emulator))
"""
from __future__ import annotations

import json
from urllib.parse import unquote, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from ansible_collections.ory.network.tests.emulator.server import Emulator
from ansible_collections.ory.network.tests.emulator.state import State
from ansible_collections.ory.network.tests.emulator.web import Request


class FakeClock:
    def __init__(self, start=1_000_000.0):
        self.time = start
        self.sleeps = []

    def now(self):
        return self.time

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.time += max(0.0, seconds)


def in_process_emulator(clock, config=None):
    state = State()
    state.load_or_seed(config or {})
    return Emulator(state, clock=clock.now)


def project_url(emulator, index=0):
    return emulator.project_url(emulator.state.projects()[index])


def project_key(emulator, index=0):
    return emulator.state.projects()[index]['seed_api_key']


class EmulatorResponse:
    def __init__(self, response):
        self.status_code = response.status
        self.content = response.body
        self.headers = CaseInsensitiveDict(response.headers)
        self.reason = 'OK' if response.status < 400 else 'Error'

    def json(self):
        return json.loads(self.content)


class EmulatorSession:
    """Stands in for requests.Session: hands each request to the emulator's dispatch."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.headers = CaseInsensitiveDict()
        self.verify = True

    def request(self, method, url, params=None, data=None, headers=None, timeout=None, verify=None):
        del timeout, verify
        merged = CaseInsensitiveDict(self.headers)
        merged.update(headers or {})
        query = {name: [str(value)] for name, value in (params or {}).items()}
        body = data.encode('utf-8') if isinstance(data, str) else (data or b'')
        req = Request(method, unquote(urlsplit(url).path), query, merged, body, '127.0.0.1')
        response, action = self.emulator.handle(req)
        if action in ('reset', 'drop') or response is None:
            raise requests.exceptions.ConnectionError('Connection aborted: the emulator dropped the connection')
        return EmulatorResponse(response)

    def close(self):
        pass
