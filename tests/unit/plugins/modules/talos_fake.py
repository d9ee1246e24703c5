"""A small in-memory Ory Talos (issued API keys + verify) on top of tests/unit/fake_transport.FakeApi.

It follows the HTTP contract the modules rely on: issue 201 with the secret once (request_id replay
returns the stored key without it), get/list with paging (ordered by key_id) and the AIP-160 filter
subset, PATCH with update_mask, revoke 204 (409 the second time), rotate 201 (old key revoked as
SUPERSEDED, expiry inherited), verify 200 with is_valid, and AIP-193 error bodies.
"""
from __future__ import annotations

import base64
import datetime
import re
import secrets
import uuid

from ansible_collections.ory.network.tests.unit.fake_transport import FakeApi, FakeResponse

BASE = '/v2alpha1/admin/issuedApiKeys'
MUTABLE = ('name', 'scopes', 'metadata', 'rate_limit_policy', 'ip_restriction')
REASONS = ('REVOCATION_REASON_KEY_COMPROMISE', 'REVOCATION_REASON_AFFILIATION_CHANGED',
           'REVOCATION_REASON_SUPERSEDED', 'REVOCATION_REASON_PRIVILEGE_WITHDRAWN')
_TTL_RE = re.compile(r'(\d+)(mo|y|w|d|h|m|s)')
_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800, 'mo': 2592000, 'y': 31536000}


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def stamp(when):
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_stamp(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)


def ttl_seconds(text):
    pos, total = 0, 0
    for match in _TTL_RE.finditer(text):
        if match.start() != pos:
            return None
        pos = match.end()
        total += int(match.group(1)) * _UNITS[match.group(2)]
    return total if pos == len(text) and text else None


def error(code, status, reason, message):
    return FakeResponse(code, {'error': {'code': code, 'message': message, 'status': status, 'details': [
        {'@type': 'type.googleapis.com/google.rpc.ErrorInfo', 'reason': reason, 'domain': 'www.ory.com/talos'}]}})


def bad_request(message):
    return error(400, 'INVALID_ARGUMENT', 'BAD_REQUEST', message)


def not_found():
    return error(404, 'NOT_FOUND', 'API_KEY_NOT_FOUND', 'API key not found')


class TalosFake:
    def __init__(self, api=None, default_ttl='168h', max_ttl='17520h', quota=None, page_limit=1000, prefix='ory_ak'):
        self.api = api or FakeApi()
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl
        self.quota = quota
        self.page_limit = page_limit
        self.prefix = prefix
        self.keys = {}          # key_id -> stored key (status ACTIVE or REVOKED; EXPIRED is computed when read)
        self.request_ids = {}   # request_id -> key_id
        self.secrets = {}       # secret -> key_id
        route = self.api.route
        route('POST', BASE, self.issue)
        route('GET', BASE, self.list)
        route('GET', BASE + r'/(?P<key_id>[^/:]+)', self.get)
        route('PATCH', BASE + r'/(?P<key_id>[^/:]+)', self.patch)
        route('POST', BASE + r'/(?P<key_id>[^/:]+):revoke', self.revoke)
        route('POST', BASE + r'/(?P<key_id>[^/:]+):rotate', self.rotate)
        route('POST', r'/v2alpha1/admin/apiKeys:verify', self.verify)

    # helpers for tests

    def seed(self, name=None, actor_id=None, scopes=None, metadata=None, expires_in=7 * 86400, status='KEY_STATUS_ACTIVE',
             visibility='KEY_VISIBILITY_SECRET', key_id=None, **extra):
        """Store a key directly (no secret is ever handed out); return its key_id."""
        key_id = key_id or str(uuid.uuid4())
        created = utcnow() - datetime.timedelta(days=1)
        key = {'key_id': key_id, 'name': name or '', 'actor_id': actor_id or '', 'scopes': list(scopes or []),
               'metadata': dict(metadata or {}), 'status': status, 'visibility': visibility,
               'create_time': stamp(created), 'update_time': stamp(created),
               'expire_time': stamp(utcnow() + datetime.timedelta(seconds=expires_in))}
        if status == 'KEY_STATUS_REVOKED':
            key['revocation_reason'] = 'REVOCATION_REASON_SUPERSEDED'
        key.update(extra)
        self.keys[key_id] = key
        return key_id

    def view(self, key_id):
        key = dict(self.keys[key_id])
        if key['status'] == 'KEY_STATUS_ACTIVE' and parse_stamp(key['expire_time']) <= utcnow():
            key['status'] = 'KEY_STATUS_EXPIRED'
        return {k: v for k, v in key.items() if v not in (None, '', [], {})} | {'metadata': key.get('metadata') or {}}

    def active(self):
        return [self.view(k) for k in self.keys if self.view(k)['status'] == 'KEY_STATUS_ACTIVE']

    def _new_secret(self, key_id, created):
        ident = base64.b32encode(('%d:%s' % (created.timestamp(), key_id)).encode()).decode().rstrip('=')
        secret = '%s_v1_%s_%s' % (self.prefix, ident, secrets.token_hex(16))
        self.secrets[secret] = key_id
        return secret

    def _create(self, fields, expire):
        key_id = str(uuid.uuid4())
        created = utcnow()
        key = {'key_id': key_id, 'name': fields.get('name') or '', 'actor_id': fields.get('actor_id') or '',
               'scopes': list(fields.get('scopes') or []), 'metadata': dict(fields.get('metadata') or {}),
               'status': 'KEY_STATUS_ACTIVE', 'visibility': fields.get('visibility') or 'KEY_VISIBILITY_SECRET',
               'create_time': stamp(created), 'update_time': stamp(created), 'expire_time': stamp(expire)}
        if fields.get('rate_limit_policy'):
            key['rate_limit_policy'] = dict(fields['rate_limit_policy'])
        if fields.get('ip_restriction'):
            key['ip_restriction'] = {'allowed_cidrs': list(fields['ip_restriction'].get('allowed_cidrs') or [])}
        if key['visibility'] == 'KEY_VISIBILITY_UNSPECIFIED':
            key['visibility'] = 'KEY_VISIBILITY_SECRET'
        self.keys[key_id] = key
        return key_id, self._new_secret(key_id, created)

    @staticmethod
    def _check_policy(policy):
        if policy and (policy.get('unit') not in (None, 'requests') or not re.match(r'^\d+s$', str(policy.get('window', ''))) or
                       not isinstance(policy.get('quota'), str)):
            return bad_request('invalid rate_limit_policy')
        return None

    # routes

    def issue(self, request):
        body = request.body or {}
        request_id = body.get('request_id')
        if request_id:
            if len(request_id) > 36:
                return bad_request('request_id must be at most 36 characters')
            if request_id in self.request_ids:
                return FakeResponse(201, {'issued_api_key': self.view(self.request_ids[request_id])})
        ttl = body.get('ttl') or self.default_ttl
        seconds = ttl_seconds(ttl) if ttl else None
        if seconds is None or seconds <= 0:
            return bad_request('ttl must be greater than 0; non-expiring API keys are not supported')
        if seconds > ttl_seconds(self.max_ttl):
            return bad_request('ttl %s exceeds the project maximum of %s' % (ttl, self.max_ttl))
        invalid = self._check_policy(body.get('rate_limit_policy'))
        if invalid:
            return invalid
        if self.quota is not None and len(self.active()) >= self.quota:
            return error(402, 'PERMISSION_DENIED', 'API_KEY_QUOTA_EXCEEDED',
                         'the API key quota for this plan permits up to %d active API keys' % self.quota)
        key_id, secret = self._create(body, utcnow() + datetime.timedelta(seconds=seconds))
        if request_id:
            self.request_ids[request_id] = key_id
        return FakeResponse(201, {'issued_api_key': self.view(key_id), 'secret': secret})

    def get(self, request, key_id):
        if key_id not in self.keys:
            return not_found()
        return FakeResponse(200, self.view(key_id))

    def list(self, request):
        params = request.params
        actor = status = None
        text = (params.get('filter') or '').strip()
        if text:
            seen = set()
            for clause in text.split(' AND '):
                match = re.match(r'^(actor_id)="((?:[^"\\]|\\.)*)"$|^(status)=(KEY_STATUS_[A-Z]+)$', clause.strip())
                if not match:
                    return bad_request('invalid filter clause: %s' % clause)
                field = match.group(1) or match.group(3)
                if field in seen:
                    return bad_request('duplicate filter field %s' % field)
                seen.add(field)
                if field == 'actor_id':
                    actor = re.sub(r'\\(.)', r'\1', match.group(2))
                else:
                    status = match.group(4)
            if status and actor is None:
                return bad_request('status filter must be combined with actor_id')
        size = int(params.get('page_size') or 50)
        size = 50 if size <= 0 else min(size, 1000, self.page_limit)
        after = base64.b64decode(params['page_token']).decode() if params.get('page_token') else ''
        ids = sorted(k for k in self.keys if k > after
                     and (actor is None or self.keys[k]['actor_id'] == actor)
                     and (status is None or self.keys[k]['status'] == status))
        page = ids[:size]
        body = {'issued_api_keys': [self.view(k) for k in page]}
        if len(ids) > size:
            body['next_page_token'] = base64.b64encode(page[-1].encode()).decode()
        return FakeResponse(200, body)

    def patch(self, request, key_id):
        body = request.body or {}
        if 'issued_api_key' in body:
            body = body['issued_api_key']
        mask = [p for p in (request.params.get('update_mask') or '').split(',') if p]
        bad = [p for p in mask if p not in MUTABLE]
        if bad:
            return bad_request('update_mask path %s is not mutable' % bad[0])
        if key_id not in self.keys:
            return not_found()
        invalid = self._check_policy(body.get('rate_limit_policy'))
        if invalid:
            return invalid
        key = self.keys[key_id]
        for path in mask or [p for p in MUTABLE if p in body]:
            value = body.get(path)
            if value in (None, '', [], {}):
                key.pop(path, None)
                if path in ('name',):
                    key['name'] = ''
            else:
                key[path] = value
        key['update_time'] = stamp(utcnow())
        return FakeResponse(200, self.view(key_id))

    def _revoke(self, key, reason, description=None):
        key['status'] = 'KEY_STATUS_REVOKED'
        key['revocation_reason'] = reason
        if description:
            key['revocation_description'] = description
        key['expire_time'] = stamp(max(parse_stamp(key['expire_time']), utcnow() + datetime.timedelta(days=30)))
        key['update_time'] = stamp(utcnow())

    def revoke(self, request, key_id):
        body = request.body or {}
        reason = body.get('reason')
        if reason not in REASONS:
            return bad_request('reason must be a specific revocation reason')
        if body.get('description') and reason != 'REVOCATION_REASON_PRIVILEGE_WITHDRAWN':
            return bad_request('description is only allowed when reason is PRIVILEGE_WITHDRAWN')
        if key_id not in self.keys:
            return not_found()
        key = self.keys[key_id]
        if key['status'] == 'KEY_STATUS_REVOKED':
            return error(409, 'ALREADY_EXISTS', 'CONFLICT', 'key is already revoked')
        self._revoke(key, reason, body.get('description'))
        return FakeResponse(204)

    def rotate(self, request, key_id):
        body = request.body or {}
        if key_id not in self.keys:
            return not_found()
        old = self.keys[key_id]
        if old['status'] != 'KEY_STATUS_ACTIVE':
            return error(409, 'FAILED_PRECONDITION', 'FAILED_PRECONDITION', 'cannot rotate a non-active key')
        fields = {k: v for k, v in old.items() if k in MUTABLE or k in ('actor_id', 'visibility')}
        for field in MUTABLE + ('visibility',):
            if field in body and not (field == 'visibility' and body[field] == 'KEY_VISIBILITY_UNSPECIFIED'):
                fields[field] = body[field]
        new_id, secret = self._create(fields, parse_stamp(old['expire_time']))
        self._revoke(old, 'REVOCATION_REASON_SUPERSEDED')
        return FakeResponse(201, {'issued_api_key': self.view(new_id), 'secret': secret, 'old_issued_api_key': self.view(key_id)})

    def verify(self, request):
        body = request.body or {}
        credential = body.get('credential')
        if not credential:
            return error(400, 'INVALID_ARGUMENT', 'CREDENTIAL_REQUIRED', 'credential is required')
        key_id = self.secrets.get(credential)
        if key_id is None:
            return FakeResponse(200, {'is_valid': False, 'error_code': 'VERIFICATION_ERROR_NOT_FOUND',
                                      'error_message': 'The API key was not found.'})
        key = self.view(key_id)
        if key['status'] == 'KEY_STATUS_REVOKED':
            return FakeResponse(200, {'is_valid': False, 'error_code': 'VERIFICATION_ERROR_REVOKED',
                                      'error_message': 'The API key has been revoked.'})
        if key['status'] == 'KEY_STATUS_EXPIRED':
            return FakeResponse(200, {'is_valid': False, 'error_code': 'VERIFICATION_ERROR_EXPIRED',
                                      'error_message': 'The API key has expired.'})
        return FakeResponse(200, {'is_valid': True, 'key_id': key_id, 'actor_id': key.get('actor_id'),
                                  'scopes': key.get('scopes', []), 'metadata': key.get('metadata', {}),
                                  'expire_time': key['expire_time'], 'status': key['status'],
                                  'visibility': key['visibility'], 'error_code': 'VERIFICATION_ERROR_UNSPECIFIED'})


# ---------------------------------------------------------------- running a module's main() in a test

# Secret-shaped strings: Ory credential prefixes followed by at least 6 more characters.
SECRET_SHAPE = re.compile(r'ory_(pat|wak|ak)_[A-Za-z0-9_\-]{6}')
PROJECT_KEY = 'ory_pat_' + 'UnitTestProjectKey' * 2
CONNECTION = {'project_api_key': PROJECT_KEY, 'project_slug': 'unit', 'timeout': 10}
OUTPUTS = []


def run_main(module, args, capsys, check_mode=False, diff=False):
    """Run ``module.main()`` with ``args`` (plus a connection); return the parsed JSON result.

    Every output is checked for secret-shaped strings anywhere except the ``secret`` result key itself.
    """
    import json

    import pytest
    from ansible.module_utils.testing import patch_module_args

    full = dict(CONNECTION, **args)
    if check_mode:
        full['_ansible_check_mode'] = True
    if diff:
        full['_ansible_diff'] = True
    with patch_module_args(full):
        with pytest.raises(SystemExit):
            module.main()
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    OUTPUTS.append(captured.out)
    leaked = dict(result)
    leaked.pop('secret', None)
    assert not SECRET_SHAPE.search(json.dumps(leaked)), 'secret-shaped string outside the secret key: %s' % captured.out
    assert not SECRET_SHAPE.search(captured.err)
    return result
