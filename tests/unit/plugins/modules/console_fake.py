"""A small in-memory Ory Network console (project and workspace API keys) on top of tests/unit/fake_transport.py.

    console = ConsoleFake()
    api = install(monkeypatch, console.api())
    console.add_project_key('ci', expires_at='2030-01-01T00:00:00Z')

It follows the HTTP contract of the console: list = bare array without ``value``, create = 201 with ``value``,
delete = 204 (404 with a herodot body for an unknown key), Bearer workspace key required (401 without,
403 for a project key).
"""
from __future__ import annotations

import datetime
import itertools
import json
import re
import uuid
from unittest import mock

import pytest
import yaml

from ansible.module_utils import _internal
from ansible.module_utils.testing import patch_module_args

from ansible_collections.ory.network.tests.unit.fake_transport import FakeApi, FakeResponse

_COUNTER = itertools.count(1)


def stamp(delta_days=0, delta_seconds=0):
    """Whole-second UTC RFC 3339 timestamp, relative to now."""
    moment = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    moment += datetime.timedelta(days=delta_days, seconds=delta_seconds)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def secret(prefix):
    return '%s%s' % (prefix, uuid.uuid4().hex + uuid.uuid4().hex[:8])


def herodot(code, status, reason, message, error_id=None, request_id=None):
    error = {'code': code, 'status': status, 'reason': reason, 'message': message,
             'request': request_id or 'req-%04d' % next(_COUNTER)}
    if error_id:
        error['id'] = error_id
    return FakeResponse(code, {'error': error})


class ConsoleFake:
    def __init__(self):
        self.workspace_id = str(uuid.uuid4())
        self.owner_id = str(uuid.uuid4())
        self.workspace_api_key = secret('ory_wak_')
        self.project_id = str(uuid.uuid4())
        self.project_slug = 'fake-project-slug'
        self.project_api_key = secret('ory_pat_')
        self.project_keys = []       # dicts including 'value' (stored, never listed)
        self.workspace_keys = []
        self.deny_workspace_list = None   # None, 401 or 403
        self._api = None

    # ---- seeding -------------------------------------------------------------------------------------------
    def _key(self, name, expires_at, created_at, parent_field, parent_id, prefix):
        value = secret(prefix)
        created = created_at or stamp()
        return {'id': str(uuid.uuid4()), 'name': name, 'owner_id': self.owner_id, parent_field: parent_id,
                'created_at': created, 'updated_at': created, 'expires_at': expires_at,
                'last_characters': value[-4:], 'value': value}

    def add_project_key(self, name, expires_at=None, created_at=None, value=None):
        key = self._key(name, expires_at, created_at, 'project_id', self.project_id, 'ory_pat_')
        if value:
            key['value'] = value
            key['last_characters'] = value[-4:]
        self.project_keys.append(key)
        return dict(key)

    def add_workspace_key(self, name, expires_at=None, created_at=None, value=None):
        key = self._key(name, expires_at, created_at, 'workspace_id', self.workspace_id, 'ory_wak_')
        if value:
            key['value'] = value
            key['last_characters'] = value[-4:]
        self.workspace_keys.append(key)
        return dict(key)

    def live_project_keys(self, name=None):
        return [dict(k) for k in self.project_keys if name is None or k['name'] == name]

    # ---- HTTP ----------------------------------------------------------------------------------------------
    def api(self):
        api = FakeApi()
        api.route('GET', r'/projects/(?P<project>[^/]+)/tokens', self._list_project)
        api.route('POST', r'/projects/(?P<project>[^/]+)/tokens', self._create_project)
        api.route('DELETE', r'/projects/(?P<project>[^/]+)/tokens/(?P<token>[^/]+)', self._delete_project)
        api.route('GET', r'/workspaces/(?P<workspace>[^/]+)/tokens', self._list_workspace)
        self._api = api
        return api

    def _auth(self, request):
        header = request.headers.get('Authorization', '')
        token = header[len('Bearer '):] if header.startswith('Bearer ') else ''
        if token.startswith('ory_pat_'):
            return herodot(403, 'Forbidden', 'A project API key cannot be used for this call.', 'The requested action was forbidden',
                           error_id='forbidden')
        if token != self.workspace_api_key:
            return herodot(401, 'Unauthorized', 'The workspace API key is not valid.', 'The request could not be authorized',
                           error_id='unauthorized')
        return None

    def _project(self, project):
        if project in (self.project_id, self.project_slug):
            return True
        return False

    @staticmethod
    def _public(key):
        return {k: v for k, v in key.items() if k != 'value'}

    def _list_project(self, request, project):
        denied = self._auth(request)
        if denied:
            return denied
        if not self._project(project):
            return herodot(404, 'Not Found', 'Unable to locate the project.', 'The requested resource could not be found')
        return FakeResponse(200, [self._public(k) for k in self.project_keys])

    def _create_project(self, request, project):
        denied = self._auth(request)
        if denied:
            return denied
        if not self._project(project):
            return herodot(404, 'Not Found', 'Unable to locate the project.', 'The requested resource could not be found')
        body = request.body or {}
        if not body.get('name'):
            return herodot(400, 'Bad Request', 'name is required', 'The request was malformed or contained invalid parameters')
        expires_at = body.get('expires_at')
        if expires_at:
            expires_at = expires_at[:19] + 'Z'
        key = self._key(body['name'], expires_at, None, 'project_id', self.project_id, 'ory_pat_')
        self.project_keys.append(key)
        return FakeResponse(201, dict(key))

    def _delete_project(self, request, project, token):
        denied = self._auth(request)
        if denied:
            return denied
        if not self._project(project):
            return herodot(404, 'Not Found', 'Unable to locate the project.', 'The requested resource could not be found')
        for index, key in enumerate(self.project_keys):
            if key['id'] == token:
                del self.project_keys[index]
                return FakeResponse(204)
        return herodot(404, 'Not Found', 'Unable to locate the API key.', 'The requested resource could not be found')

    def _list_workspace(self, request, workspace):
        denied = self._auth(request)
        if denied:
            return denied
        if self.deny_workspace_list:
            code = self.deny_workspace_list
            return herodot(code, 'Forbidden' if code == 403 else 'Unauthorized', 'Workspace API keys cannot manage workspace API keys.',
                           'The requested action was forbidden', error_id='forbidden' if code == 403 else 'unauthorized')
        if workspace != self.workspace_id:
            return herodot(404, 'Not Found', 'Unable to locate the workspace.', 'The requested resource could not be found')
        return FakeResponse(200, [self._public(k) for k in self.workspace_keys])


# ---- running a module's main() and checking its output ----------------------------------------------------------

SECRET_RE = re.compile(r'ory_(pat|wak|ak)_[A-Za-z0-9_\-\.]{6,}')
STANDARD_KEYS = {'changed', 'failed', 'invocation', 'diff', 'warnings', 'deprecations', 'msg', 'skipped'}


def run_main(module, args, capsys, check=False, diff=False):
    """Run ``module.main()`` with ``args``; return (result dict, exit code). Scans the output for secrets.

    Only the top-level ``value`` of a successful result may hold a secret (the module hands it to the action plugin),
    and it must then appear in the output exactly once.
    """
    args = dict(args)
    if check:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    # Run as on a target: once controller code is imported (other tests do), module warnings would go to the
    # controller's display instead of the result.
    with patch_module_args(args), mock.patch.object(_internal, 'is_controller', False):
        with pytest.raises(SystemExit) as exc:
            module.main()
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert not SECRET_RE.search(err), 'secret-shaped string on stderr'
    value = result.get('value')
    rest = dict(result)
    rest.pop('value', None)
    found = SECRET_RE.search(json.dumps(rest))
    assert not found, 'secret-shaped string in the module output outside value: %s' % found.group(0)[:12]
    if value is not None:
        assert SECRET_RE.fullmatch(value)
        assert out.count(value) == 1
    return result, exc.value.code


def _check_fields(documented, data, where):
    assert isinstance(data, dict), where
    unknown = set(data) - set(documented)
    assert not unknown, 'undocumented keys in %s: %s' % (where, sorted(unknown))
    for field, spec in documented.items():
        if spec.get('returned') == 'always':
            assert field in data, '%s.%s is documented as returned always but is missing' % (where, field)
        if field in data and spec.get('contains'):
            items = data[field] if spec.get('type') == 'list' else [data[field]]
            for item in items:
                _check_fields(spec['contains'], item, '%s.%s' % (where, field))


def check_return_doc(module, result):
    """The result's keys (and the keys of nested dicts and list items) are documented in RETURN, and the
    keys documented as ``returned: always`` are present."""
    documented = yaml.safe_load(module.RETURN)
    own = {k: v for k, v in result.items() if k not in STANDARD_KEYS}
    _check_fields(documented, own, 'result')
