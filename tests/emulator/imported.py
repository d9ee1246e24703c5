# Talos plane (served under /p/{slug}): imported API keys (contract 4.11). Same resource shape, paging, filter,
# update-mask and revoke rules as issued keys (talos.py); key_id is the SHA-512/256 hash of network id + NUL + raw key.
from __future__ import annotations

import json
import re
from collections import Counter

from .errors import ApiError, bad_request, not_found
from .keyformat import InvalidFormat, imported_key_id, looks_like_jwt, looks_like_macaroon, parse_v1
from .state import hash_secret
from .talos import (ACTIVE, MAX_CREDENTIAL_BYTES, MUTABLE_PATHS, PRIVILEGE_WITHDRAWN, PUBLIC, REASONS,
                    REVOKED, SECRET, VISIBILITIES, check_metadata, effective_status, key_json, parse_ip_restriction,
                    parse_rate_limit_policy, populated, resolve_ttl, ISSUED_KEY_FIELDS)
from .web import Request, empty_response, json_response, opt_enum, opt_object, opt_str, opt_str_list

ADMIN = '/v2alpha1/admin'
BASE = ADMIN + '/importedApiKeys'
ROUTES = (
    ('POST', BASE, 'import_key'),
    ('POST', BASE + ':batchCreate', 'batch_create'),
    ('GET', BASE, 'list_keys'),
    ('GET', BASE + '/{key_id}', 'get_key'),
    ('PATCH', BASE + '/{key_id}', 'update_key'),
    ('POST', BASE + '/{key_id}:revoke', 'revoke'),
    ('DELETE', BASE + '/{key_id}', 'delete_key'),
)
MAX_BATCH = 1000
KEY_ID_RE = re.compile(r'^[0-9a-f]{64}$')

# Batch per-item error codes by the HTTP status of the failure, and the order in which ties between kinds are broken.
BATCH_CODES = {
    400: 'BATCH_CREATE_IMPORTED_API_KEYS_ERROR_INVALID_ARGUMENT',
    402: 'BATCH_CREATE_IMPORTED_API_KEYS_ERROR_RESOURCE_EXHAUSTED',
    500: 'BATCH_CREATE_IMPORTED_API_KEYS_ERROR_INTERNAL',
}
DOMINANT_ORDER = (409, 400, 402, 500)


def batch_code(exc: ApiError) -> str:
    if exc.code == 409:
        if exc.grpc_status == 'FAILED_PRECONDITION':
            return 'BATCH_CREATE_IMPORTED_API_KEYS_ERROR_FAILED_PRECONDITION'
        return 'BATCH_CREATE_IMPORTED_API_KEYS_ERROR_ALREADY_EXISTS'
    return BATCH_CODES.get(exc.code, BATCH_CODES[500])


def check_imported_key_id(key_id: str):
    if not KEY_ID_RE.match(key_id):
        raise bad_request('invalid key_id %s: expected 64 lowercase hex characters' % json.dumps(key_id))


class ImportedApi:
    def __init__(self, state, talos):
        self.state = state
        self.talos = talos

    # ----- helpers -----
    def _key(self, req: Request) -> dict:
        key_id = req.params['key_id']
        check_imported_key_id(key_id)
        rec = self.state.imported(req.project['id']).get(key_id)
        if rec is None:
            raise not_found(metadata={'key_id': key_id})
        return rec

    @staticmethod
    def _fields(body) -> dict:
        """Validate one ImportApiKeyRequest; return its fields. Raises a 400/409 ApiError."""
        if not isinstance(body, dict):
            raise bad_request('each import request must be a JSON object')
        raw_key = opt_str(body, 'raw_key')
        name = opt_str(body, 'name')
        actor_id = opt_str(body, 'actor_id')
        for field, value in (('raw_key', raw_key), ('name', name), ('actor_id', actor_id)):
            if not value:
                raise bad_request('%s is required' % field)
        if len(raw_key.encode('utf-8')) > MAX_CREDENTIAL_BYTES:
            raise bad_request('raw_key must be at most %d bytes' % MAX_CREDENTIAL_BYTES)
        request_id = opt_str(body, 'request_id') or None
        if request_id is not None and len(request_id) > 36:
            raise bad_request('request_id must be at most 36 characters')
        visibility = opt_enum(body, 'visibility', VISIBILITIES)
        fields = {
            'raw_key': raw_key,
            'name': name,
            'actor_id': actor_id,
            'scopes': opt_str_list(body, 'scopes') or [],
            'metadata': check_metadata(opt_object(body, 'metadata')) or {},
            'rate_limit_policy': parse_rate_limit_policy(body.get('rate_limit_policy')),
            'ip_restriction': parse_ip_restriction(body.get('ip_restriction')),
            'request_id': request_id,
            'ttl': opt_str(body, 'ttl'),
            'visibility': PUBLIC if visibility == PUBLIC else SECRET,
        }
        if looks_like_jwt(raw_key) or looks_like_macaroon(raw_key):
            raise ApiError(409, 'format conflicts with derived token pattern (JWT or macaroon)', 'failed_precondition', 'FAILED_PRECONDITION')
        try:
            issued_shape = parse_v1(raw_key) is not None
        except InvalidFormat:
            issued_shape = False
        if issued_shape:
            raise ApiError(409, 'format conflicts with issued api key pattern', 'failed_precondition', 'FAILED_PRECONDITION')
        return fields

    def _import_one(self, proj: dict, fields: dict, now: int, active: list | None = None) -> dict:
        """Store one validated import (state lock held); return the record. Raises ApiError.

        ``active``: a one-element list with the current active-key count, kept up to date across a batch.
        """
        request_ids = self.state.imported_request_ids(proj['id'])
        keys = self.state.imported(proj['id'])
        if fields['request_id'] is not None:
            original = request_ids.get(fields['request_id'])
            if original and original in keys:
                return keys[original]
        key_id = imported_key_id(proj['id'], fields['raw_key'])
        if key_id in keys:
            raise ApiError(409, 'key already imported (duplicate detected)', 'api_key_exists', 'ALREADY_EXISTS')
        seconds = resolve_ttl(fields['ttl'], proj['settings'])
        quota = proj['settings']['key_quota']
        if active is None:
            active = [self.talos._active_count(proj, now)]  # pylint: disable=protected-access
        if active[0] >= quota:
            raise ApiError(402, 'the API key quota for this plan permits up to %d active API keys' % quota,
                           'api_key_quota_exceeded', 'PERMISSION_DENIED')
        rec = {
            'key_id': key_id,
            'name': fields['name'],
            'actor_id': fields['actor_id'],
            'scopes': fields['scopes'],
            'metadata': fields['metadata'],
            'visibility': fields['visibility'],
            'status': ACTIVE,
            'create_time': now,
            'update_time': now,
            'expire_time': now + seconds,
            'last_used_time': None,
            'revocation_reason': None,
            'revocation_description': None,
            'rate_limit_policy': fields['rate_limit_policy'],
            'ip_restriction': fields['ip_restriction'],
            'secret_hash': hash_secret(fields['raw_key']),
            'request_id': fields['request_id'],
        }
        keys[key_id] = rec
        active[0] += 1
        if fields['request_id'] is not None:
            request_ids[fields['request_id']] = key_id
        return rec

    # ----- import -----
    def import_key(self, req: Request):
        fields = self._fields(req.json())
        proj = req.project
        with self.state.lock:
            now = self.state.now()
            rec = self._import_one(proj, fields, now)
            self.state.save()
            return json_response(201, key_json(rec, now))

    def batch_create(self, req: Request):
        body = req.json()
        items = body.get('requests')
        if items is None:
            items = []
        if not isinstance(items, list):
            raise bad_request('invalid value for field "requests": expected a list of ImportApiKeyRequest objects')
        if len(items) > MAX_BATCH:
            raise bad_request('at most %d keys can be imported in one batch' % MAX_BATCH)
        proj = req.project
        results, failures = [], []
        with self.state.lock:
            now = self.state.now()
            active = [self.talos._active_count(proj, now)]  # pylint: disable=protected-access
            for index, item in enumerate(items):
                try:
                    rec = self._import_one(proj, self._fields(item), now, active)
                except ApiError as exc:
                    failures.append(exc)
                    results.append({'index': index, 'error_code': batch_code(exc), 'error_message': exc.message})
                    continue
                results.append({'index': index, 'imported_api_key': key_json(rec, now)})
            if len(failures) < len(items):
                self.state.save()
        if items and len(failures) == len(items):
            # Every item failed: the call fails with the dominant kind of failure.
            counts = Counter(exc.code if exc.code in DOMINANT_ORDER else 500 for exc in failures)
            code = max(DOMINANT_ORDER, key=lambda c: (counts.get(c, 0), -DOMINANT_ORDER.index(c)))
            first = next((exc for exc in failures if exc.code == code), None)
            if first is None:
                raise ApiError(500, 'all %d keys failed to import' % len(items), 'internal_server_error', 'INTERNAL')
            raise ApiError(code, 'all %d keys failed to import: %s' % (len(items), first.message), first.error_id, first.grpc_status)
        return json_response(200, {'results': results, 'success_count': len(items) - len(failures), 'failure_count': len(failures)})

    # ----- get / list -----
    def get_key(self, req: Request):
        with self.state.lock:
            return json_response(200, key_json(self._key(req), self.state.now()))

    def list_keys(self, req: Request):
        return self.talos.list_page(req, self.state.imported, 'imported_api_keys', key_json)

    # ----- update -----
    def update_key(self, req: Request):
        paths = []
        for raw in req.query.get('update_mask', []):
            for path in raw.split(','):
                path = re.sub(r'(?<=[a-z0-9])([A-Z])', lambda m: '_' + m.group(1).lower(), path.strip())
                if path:
                    paths.append(path)
        for path in paths:
            if path not in MUTABLE_PATHS:
                raise bad_request('update_mask path %s is not allowed; mutable paths: %s' % (json.dumps(path), ', '.join(MUTABLE_PATHS)))
        check_imported_key_id(req.params['key_id'])
        body = req.json()
        if isinstance(body.get('imported_api_key'), dict):
            body = body['imported_api_key']
        if not paths:
            paths = [name for name in ISSUED_KEY_FIELDS if name != 'key_id' and populated(name, body.get(name))]
            for path in paths:
                if path not in MUTABLE_PATHS:
                    raise bad_request('field %s cannot be updated; mutable fields: %s' % (json.dumps(path), ', '.join(MUTABLE_PATHS)))
        changes = {}
        for path in paths:
            if path == 'name':
                changes[path] = opt_str(body, 'name') or ''
            elif path == 'scopes':
                changes[path] = opt_str_list(body, 'scopes') or []
            elif path == 'metadata':
                changes[path] = check_metadata(opt_object(body, 'metadata')) or {}
            elif path == 'rate_limit_policy':
                changes[path] = parse_rate_limit_policy(body.get('rate_limit_policy'))
            else:
                cidrs = parse_ip_restriction(body.get('ip_restriction'))
                changes[path] = cidrs if cidrs is not None else []
        with self.state.lock:
            rec = self._key(req)
            now = self.state.now()
            if changes:
                rec.update(changes)
                rec['update_time'] = now
                self.state.save()
            return json_response(200, key_json(rec, now))

    # ----- revoke / delete -----
    def revoke(self, req: Request):
        body = req.json()
        reason = opt_enum(body, 'reason', REASONS)
        description = opt_str(body, 'description')
        if description and reason != PRIVILEGE_WITHDRAWN:
            raise bad_request('description is only allowed when reason is PRIVILEGE_WITHDRAWN')
        if reason in (None, REASONS[0]):
            raise bad_request('reason is required: REVOCATION_REASON_UNSPECIFIED is not allowed')
        with self.state.lock:
            rec = self._key(req)
            if rec['status'] == REVOKED:
                raise ApiError(409, 'key is already revoked', 'conflict', 'ALREADY_EXISTS')
            self.talos._revoke(rec, reason, description, self.state.now())  # pylint: disable=protected-access
            self.state.save()
        return empty_response(204)

    def delete_key(self, req: Request):
        with self.state.lock:
            rec = self._key(req)
            keys = self.state.imported(req.project['id'])
            del keys[rec['key_id']]
            request_ids = self.state.imported_request_ids(req.project['id'])
            for request_id in [r for r, k in request_ids.items() if k == rec['key_id']]:
                del request_ids[request_id]
            self.state.save()
        return empty_response(204)


__all__ = ['ImportedApi', 'ROUTES', 'effective_status']
