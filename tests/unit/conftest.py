# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit test harness: the collection's emulator (tests/emulator) run in process, and one way to run a module's main().

- ``ory`` fixture: a fresh emulator (console + Talos + admin planes) per test. Every requests.Session the collection
  creates gets a transport adapter that hands the request to the emulator's dispatcher (no socket, no thread), so the
  real client code (headers, JSON, retries) talks to the one fake of Ory Network. Requests are recorded in ``ory.calls``;
  retry sleeps are recorded in ``ory.sleeps`` instead of slept. Faults use the emulator's own fault rules.
- ``run_main`` fixture: runs ``module.main()`` with arguments (ansible-core 2.18 and 2.19), returns the result dict and
  fails the test when a secret-shaped string reaches the output anywhere but the one result key that may carry it.
"""
from __future__ import annotations

import contextlib
import email.utils
import json
import re
import time
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
import yaml
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings

from ansible_collections.ory.network.plugins.module_utils import _client
from ansible_collections.ory.network.tests.emulator import state as emulator_state
from ansible_collections.ory.network.tests.emulator.server import Emulator
from ansible_collections.ory.network.tests.emulator.talos import ACTIVE
from ansible_collections.ory.network.tests.emulator.web import Request as EmulatorRequest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.18
    patch_module_args = None

try:
    from ansible.module_utils import _internal as module_internal
except ImportError:  # ansible-core 2.18
    module_internal = None


@contextlib.contextmanager
def module_args(args):
    """The module arguments ``main()`` reads, on ansible-core 2.18 and 2.19, run as on a target."""
    with pytest.MonkeyPatch.context() as patch:
        if module_internal is not None and hasattr(module_internal, 'is_controller'):
            # Run as on a target: once controller code is imported, module warnings would go to the controller's display.
            patch.setattr(module_internal, 'is_controller', False)
        if patch_module_args is not None:
            with patch_module_args(args):
                yield
        else:
            patch.setattr(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode())
            yield


BASE_URL = 'http://emulator.test'
SECRET_RE = re.compile(r'ory_(pat|wak|ak|pk|apikey)_[A-Za-z0-9_\-\.]{6,}')
# The one result key in which a key module hands a new secret to its action plugin.
SECRET_RESULT_KEYS = {'ory_project_api_key': 'value', 'ory_issued_api_key': 'secret'}
STANDARD_KEYS = {'changed', 'failed', 'invocation', 'diff', 'warnings', 'deprecations', 'msg', 'skipped', 'exception'}
HTTP_REASONS = {200: 'OK', 201: 'Created', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
                404: 'Not Found', 409: 'Conflict', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway',
                503: 'Service Unavailable', 504: 'Gateway Timeout'}


class Call:
    """One request as the emulator saw it."""

    def __init__(self, method, path, query, body, headers):
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.headers = headers

    def __iter__(self):
        return iter((self.method, self.path))

    def __repr__(self):
        return '%s %s' % (self.method, self.path)


class EmulatorAdapter(BaseAdapter):
    """A requests transport adapter that dispatches to an in-process Emulator instead of a socket."""

    def __init__(self, ory):
        super().__init__()
        self.ory = ory

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # pylint: disable=too-many-arguments
        del stream, timeout, cert, proxies
        self.ory.verify_seen.append(verify)
        parts = urlsplit(request.url)
        body = request.body or b''
        if isinstance(body, str):
            body = body.encode('utf-8')
        headers = CaseInsensitiveDict(request.headers)
        path = unquote(parts.path)
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = body
        self.ory.calls.append(Call(request.method, path, parse_qs(parts.query), decoded, dict(headers)))
        for hook in list(self.ory.hooks):
            if hook[0] == request.method and re.fullmatch(hook[1], path):
                self.ory.hooks.remove(hook)
                hook[2]()
        req = EmulatorRequest(request.method, path, parse_qs(parts.query, keep_blank_values=True), headers, body, '127.0.0.1')
        resp, action = self.ory.emulator.handle(req)
        if action in ('reset', 'drop') or resp is None:
            raise requests.exceptions.ConnectionError('Connection aborted.', request=request)
        response = requests.Response()
        response.status_code = resp.status
        response.headers = CaseInsensitiveDict(resp.headers)
        # as the HTTP server sends it: the emulator's clock (moved by its admin clock offset)
        response.headers.setdefault('Date', email.utils.formatdate(self.ory.emulator.clock(), usegmt=True))
        response._content = resp.body  # pylint: disable=protected-access
        response.reason = HTTP_REASONS.get(resp.status, 'Error')
        response.url = request.url
        response.request = request
        response.encoding = 'utf-8'
        return response

    def close(self):
        pass


class Ory:
    """A fresh Ory Network (the emulator) and what the collection sent to it."""

    def __init__(self, config=None):
        self.state = emulator_state.State(None)
        self.state.load_or_seed(config or {})
        self.emulator = Emulator(self.state)
        self.emulator.base_url = BASE_URL
        info = self.emulator.info()
        self.console_url = info['console_url']
        self.project_url_template = info['project_url_template']
        self.project_url = info['project_url']
        self.workspace_id = info['workspace_id']
        self.workspace_api_key = info['workspace_api_key']
        self.project_id = info['project_id']
        self.project_slug = info['project_slug']
        self.project_api_key = info['project_api_key']
        self.calls = []
        self.hooks = []
        self.sleeps = []
        self.verify_seen = []

    # ---- what the collection sent -----------------------------------------------------------------------------
    def writes(self):
        return [c for c in self.calls if c.method != 'GET']

    def methods(self):
        return [(c.method, c.path) for c in self.calls]

    def forget_calls(self):
        del self.calls[:]

    # ---- module arguments -------------------------------------------------------------------------------------
    def connection(self, **extra):
        """Every connection option, as a play's group module_defaults would give them."""
        args = dict(workspace_api_key=self.workspace_api_key, console_api_url=self.console_url, workspace_id=self.workspace_id,
                    project_api_key=self.project_api_key, project_api_url=self.project_url_template,
                    project_slug=self.project_slug, project_id=self.project_id)
        args.update(extra)
        return {k: v for k, v in args.items() if v is not None}

    def console_args(self, **extra):
        args = dict(workspace_api_key=self.workspace_api_key, console_api_url=self.console_url)
        args.update(extra)
        return {k: v for k, v in args.items() if v is not None}

    def talos_args(self, **extra):
        args = dict(project_api_key=self.project_api_key, project_api_url=self.project_url_template, project_slug=self.project_slug)
        args.update(extra)
        return {k: v for k, v in args.items() if v is not None}

    # ---- the emulator's own API (for seeding and checking) ----------------------------------------------------
    def call(self, method, path, body=None, token=None, query=None):
        """Send one request to the emulator as a client would (not recorded); returns (status, decoded body)."""
        headers = CaseInsensitiveDict({'Authorization': 'Bearer %s' % token} if token else {})
        raw = json.dumps(body).encode() if body is not None else b''
        resp, dummy = self.emulator.handle(EmulatorRequest(method, path, dict((k, [v]) for k, v in (query or {}).items()), headers, raw))
        return resp.status, (json.loads(resp.body) if resp.body else None)

    def fault(self, **spec):
        """Add an emulator fault rule (rate_limit, status, reset, slow, drop_after_commit), as the admin API does."""
        return self.emulator.faults.add(spec)

    def before(self, endpoint, action):
        """Run ``action()`` (another client's request, say) once, just before the next request to ``endpoint``
        ('METHOD /template/{with}/{params}', as in emulator faults) reaches the emulator."""
        method, template = endpoint.split(' ', 1)
        pattern = re.sub(r'\\\{[a-z_]+\\\}', '[^/:]+', re.escape(template))
        self.hooks.append((method, '(/p/[^/]+)?' + pattern, action))

    def now(self):
        return self.state.now()

    # console plane
    def add_project_key(self, name, expires_at=None, created_at=None):
        """Create a project API key through the console API; returns it with its ``value``.

        ``expires_at`` and ``created_at`` may lie in the past: the record is then set as the server would have it.
        """
        body = {'name': name}
        future = expires_at is not None and emulator_state.parse_rfc3339(expires_at) > self.now()
        if future:
            body['expires_at'] = expires_at
        status, key = self.call('POST', '/projects/%s/tokens' % self.project_id, body, self.workspace_api_key)
        assert status == 201, key
        if (expires_at is not None and not future) or created_at is not None:
            with self.state.lock:
                for rec in self.state.data['project_keys']:
                    if rec['id'] == key['id']:
                        if expires_at is not None:
                            rec['expires_at'] = emulator_state.parse_rfc3339(expires_at)
                        if created_at is not None:
                            rec['created_at'] = rec['updated_at'] = emulator_state.parse_rfc3339(created_at)
            key.update(expires_at=expires_at if expires_at is not None else key.get('expires_at'))
            if created_at is not None:
                key.update(created_at=created_at, updated_at=created_at)
        return key

    def project_keys(self, name=None):
        """Live project keys (the emulator's seed key excluded)."""
        status, keys = self.call('GET', '/projects/%s/tokens' % self.project_id, token=self.workspace_api_key)
        assert status == 200, keys
        return [k for k in keys if k['name'] != 'emulator-seed' and (name is None or k['name'] == name)]

    def add_workspace_key(self, name, expires_at=None):
        """A workspace key (the console API cannot create one; the emulator's state is the server's database)."""
        value = emulator_state.new_console_secret('ory_wak_')
        expires = emulator_state.parse_rfc3339(expires_at) if expires_at else None
        rec = emulator_state.console_key_record(name, self.state.workspace['owner_id'], value, self.now(), expires,
                                                workspace_id=self.workspace_id)
        with self.state.lock:
            self.state.data['workspace_keys'].append(rec)
        return dict(rec, value=value)

    # Talos plane
    def talos_path(self, suffix=''):
        return '/p/%s/v2alpha1/admin/issuedApiKeys%s' % (self.project_slug, suffix)

    def issue(self, **body):
        """Issue a key through Talos; returns (issued_api_key, secret)."""
        body.setdefault('name', 'seed-%s' % uuid.uuid4().hex[:6])
        status, answer = self.call('POST', self.talos_path(), body, self.project_api_key)
        assert status == 201, answer
        return answer['issued_api_key'], answer['secret']

    def revoke(self, key_id, reason='REVOCATION_REASON_KEY_COMPROMISE'):
        status, body = self.call('POST', self.talos_path('/%s:revoke' % key_id), {'reason': reason}, self.project_api_key)
        assert status == 204, body

    def set_expiry(self, key_id, seconds_from_now):
        """Move an issued key's expiry (in the past for an expired key): the server's record, as time would."""
        with self.state.lock:
            rec = self.state.issued(self.project_id)[key_id]
            rec['expire_time'] = self.now() + int(seconds_from_now)
            self.state.dirty(key_id)

    def issued_key(self, key_id):
        status, key = self.call('GET', self.talos_path('/' + key_id), token=self.project_api_key)
        return key if status == 200 else None

    def issued_keys(self, name=None, active_only=True):
        status, page = self.call('GET', self.talos_path(), token=self.project_api_key, query={'page_size': '1000'})
        assert status == 200, page
        keys = page.get('issued_api_keys') or []
        keys = [k for k in keys if name is None or k.get('name') == name]
        return [k for k in keys if not active_only or k.get('status') == ACTIVE]

    def verify(self, secret):
        status, answer = self.call('POST', '/p/%s/v2alpha1/admin/apiKeys:verify' % self.project_slug, {'credential': secret}, self.project_api_key)
        assert status == 200, answer
        return answer


@pytest.fixture
def ory(monkeypatch):
    """A fresh in-process emulator; every requests.Session of the collection talks to it."""
    env = Ory()
    real_session = requests.Session

    def session():
        sess = real_session()
        adapter = EmulatorAdapter(env)
        sess.mount('http://', adapter)
        sess.mount('https://', adapter)
        return sess

    monkeypatch.setattr(_client.requests, 'Session', session)
    monkeypatch.setattr(_client.time, 'sleep', env.sleeps.append)
    for name in list(__import__('os').environ):
        if name.startswith('ORY_') or name == '_ORY_NETWORK_SECRET_SINK':
            monkeypatch.delenv(name)
    return env


@pytest.fixture(autouse=True)
def fresh_module_warnings(monkeypatch):
    """Module warnings and deprecations are process-global in ansible-core 2.18: every test starts with none."""
    for name in ('_global_warnings', '_global_deprecations'):
        if hasattr(module_warnings, name):
            monkeypatch.setattr(module_warnings, name, type(getattr(module_warnings, name))())


def _run_main(module, args, capsys, check=False, diff=False, secret_key=None):
    """Run ``module.main()`` with ``args``; return (result dict, exit code).

    The output must hold no secret-shaped string, except the value of ``secret_key`` (the new secret a key module hands
    to its action plugin), which must then appear exactly once.
    """
    args = dict(args)
    if check:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert not SECRET_RE.search(err), 'secret-shaped string on stderr'
    rest = dict(result)
    value = rest.pop(secret_key, None) if secret_key else None
    found = SECRET_RE.search(json.dumps(rest))
    assert not found, 'secret-shaped string in the module output outside %s: %s' % (secret_key, found.group(0)[:12])
    if value is not None:
        assert SECRET_RE.fullmatch(value)
        assert out.count(value) == 1
    return result, exc.value.code


@pytest.fixture
def run_main(capsys):
    """``run_main(module, args, check=False, diff=False)`` -> (result, exit code). See _run_main."""
    def run(module, args, check=False, diff=False):
        secret_key = SECRET_RESULT_KEYS.get(module.__name__.rsplit('.', 1)[-1])
        return _run_main(module, args, capsys, check=check, diff=diff, secret_key=secret_key)
    return run


def _check_fields(documented, data, where):
    assert isinstance(data, dict), where
    unknown = set(data) - set(documented)
    assert not unknown, 'undocumented keys in %s: %s' % (where, sorted(unknown))
    for field, spec in documented.items():
        if spec.get('returned') == 'always':
            assert field in data, '%s.%s is documented as returned always but is missing' % (where, field)
        if field in data and spec.get('contains') and data[field] is not None:
            items = data[field] if spec.get('type') == 'list' else [data[field]]
            for item in items:
                _check_fields(spec['contains'], item, '%s.%s' % (where, field))


def check_return_doc(module, result):
    """The result's keys (and those of nested dicts and list items) are documented in the module's RETURN, and the
    keys documented as ``returned: always`` are present."""
    documented = yaml.safe_load(module.RETURN) or {}
    own = {k: v for k, v in result.items() if k not in STANDARD_KEYS}
    _check_fields(documented, own, 'result')


def in_days(days=0, seconds=0):
    """Whole-second UTC RFC 3339 timestamp, relative to now."""
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(int(time.time()) + int(days * 86400) + seconds))
