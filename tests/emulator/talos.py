# Talos plane (served under /p/{slug}): issued API keys, verify, self-revoke. Behaviour per the contract, sections 4 and 5.
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import uuid
from fractions import Fraction

from .durations import DurationError, format_go, parse_duration, parse_proto_duration
from .errors import ApiError, bad_request, not_found
from .keyformat import InvalidFormat, checksum_ok, imported_key_id, looks_like_jwt, new_secret, parse_v1
from .state import hash_secret, rfc3339
from .web import Request, empty_response, json_response, opt_enum, opt_object, opt_str, opt_str_list

ADMIN = '/v2alpha1/admin'
ROUTES = (
    ('POST', ADMIN + '/issuedApiKeys', 'issue'),
    ('GET', ADMIN + '/issuedApiKeys', 'list_keys'),
    ('GET', ADMIN + '/issuedApiKeys/{key_id}', 'get_key'),
    ('PATCH', ADMIN + '/issuedApiKeys/{key_id}', 'update_key'),
    ('POST', ADMIN + '/issuedApiKeys/{key_id}:revoke', 'revoke'),
    ('POST', ADMIN + '/apiKeys/{key_id}:revoke', 'revoke'),
    ('POST', ADMIN + '/issuedApiKeys/{key_id}:rotate', 'rotate'),
    ('POST', ADMIN + '/apiKeys:verify', 'verify'),
    ('POST', ADMIN + '/apiKeys:batchVerify', 'batch_verify'),
    ('POST', '/v2alpha1/apiKeys:selfRevoke', 'self_revoke'),
)

ACTIVE, REVOKED, EXPIRED = 'KEY_STATUS_ACTIVE', 'KEY_STATUS_REVOKED', 'KEY_STATUS_EXPIRED'
KEY_STATUSES = ('KEY_STATUS_UNSPECIFIED', ACTIVE, REVOKED, EXPIRED)
SECRET, PUBLIC = 'KEY_VISIBILITY_SECRET', 'KEY_VISIBILITY_PUBLIC'
VISIBILITIES = ('KEY_VISIBILITY_UNSPECIFIED', SECRET, PUBLIC)
REASONS = ('REVOCATION_REASON_UNSPECIFIED', 'REVOCATION_REASON_KEY_COMPROMISE', 'REVOCATION_REASON_AFFILIATION_CHANGED',
           'REVOCATION_REASON_SUPERSEDED', 'REVOCATION_REASON_PRIVILEGE_WITHDRAWN')
PRIVILEGE_WITHDRAWN = 'REVOCATION_REASON_PRIVILEGE_WITHDRAWN'
SUPERSEDED = 'REVOCATION_REASON_SUPERSEDED'

MUTABLE_PATHS = ('name', 'scopes', 'metadata', 'rate_limit_policy', 'ip_restriction')
ISSUED_KEY_FIELDS = ('actor_id', 'create_time', 'expire_time', 'ip_restriction', 'key_id', 'last_used_time', 'metadata', 'name',
                     'rate_limit_policy', 'revocation_description', 'revocation_reason', 'scopes', 'status', 'update_time', 'visibility')
METADATA_MAX = 65536
TTL_MAX_SECONDS = 315360000
REVOKE_RETENTION = 30 * 86400
CLOCK_SKEW = 300
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
MAX_BATCH_VERIFY = 100
MAX_CREDENTIAL_BYTES = 8192
NO_EXPIRY_MESSAGE = 'ttl must be greater than 0; non-expiring API keys are not supported'

VERIFY_MESSAGES = {
    'VERIFICATION_ERROR_INVALID_FORMAT': 'The API key format is invalid.',
    'VERIFICATION_ERROR_EXPIRED': 'The API key has expired.',
    'VERIFICATION_ERROR_REVOKED': 'The API key has been revoked.',
    'VERIFICATION_ERROR_NOT_FOUND': 'The API key was not found.',
    'VERIFICATION_ERROR_SIGNATURE_INVALID': 'The token signature is invalid.',
    'VERIFICATION_ERROR_AUDIENCE_MISMATCH': 'The credential does not name an expected audience.',
}


# ----- representation -----
def effective_status(rec: dict, now: int) -> str:
    if rec['status'] == REVOKED:
        return REVOKED
    if rec['expire_time'] <= now:
        return EXPIRED
    return ACTIVE


def rlp_json(policy: dict) -> dict:
    out = {}
    if policy.get('quota') is not None:
        out['quota'] = str(policy['quota'])
    if policy.get('window') is not None:
        out['window'] = '%ds' % policy['window']
    out['unit'] = policy.get('unit') or 'requests'
    return out


def key_json(rec: dict, now: int) -> dict:
    out = {
        'key_id': rec['key_id'],
        'name': rec.get('name') or '',
        'actor_id': rec.get('actor_id') or '',
        'scopes': list(rec.get('scopes') or []),
        'metadata': rec.get('metadata') or {},
        'status': effective_status(rec, now),
        'visibility': rec['visibility'],
        'create_time': rfc3339(rec['create_time']),
        'update_time': rfc3339(rec['update_time']),
        'expire_time': rfc3339(rec['expire_time']),
    }
    if rec.get('last_used_time') is not None:
        out['last_used_time'] = rfc3339(rec['last_used_time'])
    if rec.get('revocation_reason'):
        out['revocation_reason'] = rec['revocation_reason']
    if rec.get('revocation_description'):
        out['revocation_description'] = rec['revocation_description']
    if rec.get('rate_limit_policy') is not None:
        out['rate_limit_policy'] = rlp_json(rec['rate_limit_policy'])
    if rec.get('ip_restriction') is not None:
        out['ip_restriction'] = {'allowed_cidrs': list(rec['ip_restriction'])}
    return out


# ----- field validation -----
def check_metadata(metadata):
    if metadata is None:
        return None
    size = len(json.dumps(metadata, separators=(',', ':'), ensure_ascii=False).encode('utf-8'))
    if size > METADATA_MAX:
        raise bad_request('metadata size (%d bytes) exceeds maximum of %d bytes' % (size, METADATA_MAX))
    return metadata


def parse_rate_limit_policy(value):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request('invalid value for field "rate_limit_policy": expected a JSON object')
    policy = {'quota': None, 'window': None, 'unit': 'requests'}
    quota = value.get('quota')
    if quota is not None:
        if isinstance(quota, bool) or not isinstance(quota, (int, str)) or (isinstance(quota, str) and not re.fullmatch(r'-?\d{1,19}', quota)):
            raise bad_request('rate_limit_policy.quota must be an int64 (a JSON string or number)')
        quota = int(quota)
        if quota < 0 or quota > 2 ** 63 - 1:
            raise bad_request('rate_limit_policy.quota must be between 0 and 9223372036854775807')
        policy['quota'] = quota
    window = value.get('window')
    if window is not None:
        try:
            seconds = parse_proto_duration(window)
        except DurationError as exc:
            raise bad_request('rate_limit_policy.window: %s' % exc) from exc
        if seconds.denominator != 1:
            raise bad_request('rate_limit_policy.window must be a whole number of seconds; fractional-second windows are not supported')
        if seconds <= 0:
            raise bad_request('rate_limit_policy.window must be greater than 0')
        policy['window'] = int(seconds)
    unit = value.get('unit')
    if unit not in (None, '', 'requests'):
        raise bad_request('rate_limit_policy.unit must be "requests"')
    return policy


def parse_ip_restriction(value):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request('invalid value for field "ip_restriction": expected a JSON object')
    cidrs = opt_str_list(value, 'allowed_cidrs') or []
    for cidr in cidrs:
        if '/' not in cidr:
            raise bad_request('invalid CIDR %s in ip_restriction.allowed_cidrs' % json.dumps(cidr))
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError as exc:
            raise bad_request('invalid CIDR %s in ip_restriction.allowed_cidrs' % json.dumps(cidr)) from exc
    return cidrs


def populated(name: str, value) -> bool:
    """Whether a PATCH body value counts as set when deriving the mask (proto3 enum zero values do not)."""
    if value is None:
        return False
    if name in ('status', 'visibility', 'revocation_reason'):
        return value not in (0, KEY_STATUSES[0], VISIBILITIES[0], REASONS[0])
    return True


def check_key_id(key_id: str):
    try:
        uuid.UUID(key_id)
    except ValueError as exc:
        raise bad_request('invalid key_id %s: expected a UUID' % json.dumps(key_id)) from exc


def resolve_ttl(ttl, settings: dict) -> int:
    """Return the TTL in whole seconds, applying the project default and bounds (contract 4.3)."""
    default = settings.get('default_ttl')
    seconds = None
    if ttl not in (None, ''):
        try:
            seconds = parse_duration(ttl)
        except DurationError as exc:
            raise bad_request('invalid ttl %s: expected a duration such as "3600s", "24h", "30d" or "1y6mo"' % json.dumps(ttl)) from exc
        if seconds == 0:
            raise bad_request(NO_EXPIRY_MESSAGE)
        if seconds < 0:
            seconds = None
    if seconds is None:
        if not default:
            raise bad_request(NO_EXPIRY_MESSAGE)
        seconds = Fraction(default)
    max_ttl = settings['max_ttl']
    if seconds > max_ttl:
        raise bad_request('ttl %s exceeds the project maximum of %s' % (format_go(seconds), format_go(max_ttl)))
    if seconds < 1 or seconds > TTL_MAX_SECONDS:
        raise bad_request('ttl must be between 1s and %ds' % TTL_MAX_SECONDS)
    return int(seconds)


# ----- list filter (AIP-160 subset) -----
_FILTER_FIELD = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*')


def parse_filter(text: str) -> dict:
    """Parse `actor_id="..." AND status=KEY_STATUS_...`. Returns {'actor_id': ..., 'status': ...}."""
    out: dict = {}
    if text is None or not text.strip():
        return out
    pos, size = 0, len(text)
    while True:
        rest = text[pos:]
        if not rest.strip():
            raise bad_request('invalid filter: empty clause')
        match = _FILTER_FIELD.match(text, pos)
        if not match:
            raise bad_request('invalid filter %s: expected field=value clauses joined with AND' % json.dumps(text))
        field = match.group(1)
        pos = match.end()
        if pos < size and text[pos] == '"':
            end = text.find('"', pos + 1)
            if end < 0:
                raise bad_request('invalid filter: unterminated quoted value')
            value = text[pos + 1:end]
            pos = end + 1
        else:
            vmatch = re.compile(r'[^\s"]+').match(text, pos)
            if not vmatch:
                raise bad_request('invalid filter: empty value for %s' % field)
            value = vmatch.group(0)
            pos = vmatch.end()
        if field not in ('actor_id', 'status'):
            raise bad_request('invalid filter: unsupported field %s; only actor_id and status are allowed' % json.dumps(field))
        if field in out:
            raise bad_request('invalid filter: duplicate field %s' % field)
        if field == 'status' and value not in (ACTIVE, REVOKED, EXPIRED):
            raise bad_request('invalid filter: unknown status %s' % json.dumps(value))
        out[field] = value
        tail = re.compile(r'\s*(?:(AND|OR)(?=\s)|$)').match(text, pos)
        if not tail or (tail.group(1) is None and tail.end() != size):
            raise bad_request('invalid filter %s: clauses must be joined with AND' % json.dumps(text))
        if tail.group(1) == 'OR':
            raise bad_request('invalid filter: OR is not supported; join clauses with AND')
        if tail.group(1) is None:
            break
        pos = tail.end()
    if 'status' in out and 'actor_id' not in out:
        raise bad_request('status filter must be combined with actor_id')
    return out


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode('ascii').rstrip('=')


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


class TalosApi:
    def __init__(self, state, issuer_for):
        self.state = state
        self.issuer_for = issuer_for

    # ----- edge authentication (herodot envelope) -----
    def authenticate(self, req: Request):
        token = req.bearer()
        if token is None:
            raise ApiError(401, 'The request could not be authorized: no bearer token was sent', edge=True)
        kind, key = self.state.console_key(token)
        if kind == 'workspace':
            raise ApiError(403, 'Workspace API keys cannot access the project API; use a project API key', edge=True)
        if kind != 'project' or key['project_id'] != req.project['id']:
            raise ApiError(401, 'The request could not be authorized: the API key is invalid, expired or belongs to another project', edge=True)

    # ----- helpers -----
    def _key(self, req: Request) -> dict:
        key_id = req.params['key_id']
        check_key_id(key_id)
        rec = self.state.issued(req.project['id']).get(key_id)
        if rec is None:
            raise not_found(metadata={'key_id': key_id})
        return rec

    def _prefix(self, proj: dict, visibility: str) -> str:
        settings = proj['settings']
        if visibility == PUBLIC:
            if not settings.get('public_prefix'):
                raise bad_request('cannot issue a public API key: no public key prefix is configured for this project')
            return settings['public_prefix']
        return settings['prefix']

    def _new_key(self, proj: dict, fields: dict, visibility: str, expire_time: int, now: int) -> tuple:
        prefix = self._prefix(proj, visibility)
        key_id, secret = new_secret(prefix, proj['hmac_secret'], now)
        rec = {
            'key_id': key_id,
            'name': fields.get('name') or '',
            'actor_id': fields.get('actor_id') or '',
            'scopes': fields.get('scopes') or [],
            'metadata': fields.get('metadata') or {},
            'visibility': visibility,
            'status': ACTIVE,
            'create_time': now,
            'update_time': now,
            'expire_time': expire_time,
            'last_used_time': None,
            'revocation_reason': None,
            'revocation_description': None,
            'rate_limit_policy': fields.get('rate_limit_policy'),
            'ip_restriction': fields.get('ip_restriction'),
            'prefix': prefix,
            'secret_hash': hash_secret(secret),
            'request_id': fields.get('request_id'),
        }
        self.state.issued(proj['id'])[key_id] = rec
        return rec, secret

    def _revoke(self, rec: dict, reason: str, description: str | None, now: int):
        self.state.dirty(rec['key_id'])
        rec['status'] = REVOKED
        rec['revocation_reason'] = reason
        rec['revocation_description'] = description if reason == PRIVILEGE_WITHDRAWN and description else None
        rec['expire_time'] = max(now + REVOKE_RETENTION, rec['expire_time'])
        rec['update_time'] = now

    def _active_count(self, proj: dict, now: int) -> int:
        """Active keys counted against the quota: issued plus imported (contract 4.3)."""
        keys = list(self.state.issued(proj['id']).values()) + list(self.state.imported(proj['id']).values())
        return sum(1 for rec in keys if effective_status(rec, now) == ACTIVE)

    # ----- issue -----
    def issue(self, req: Request):
        body = req.json()
        fields = {
            'name': opt_str(body, 'name'),
            'actor_id': opt_str(body, 'actor_id'),
            'scopes': opt_str_list(body, 'scopes'),
            'metadata': check_metadata(opt_object(body, 'metadata')),
            'rate_limit_policy': parse_rate_limit_policy(body.get('rate_limit_policy')),
            'ip_restriction': parse_ip_restriction(body.get('ip_restriction')),
            'request_id': opt_str(body, 'request_id') or None,
        }
        ttl = opt_str(body, 'ttl')
        visibility = opt_enum(body, 'visibility', VISIBILITIES)
        visibility = PUBLIC if visibility == PUBLIC else SECRET
        request_id = fields['request_id']
        if request_id is not None and len(request_id) > 36:
            raise bad_request('request_id must be at most 36 characters')
        proj = req.project
        with self.state.lock:
            now = self.state.now()
            if request_id is not None:
                original = self.state.request_ids(proj['id']).get(request_id)
                if original and original in self.state.issued(proj['id']):
                    return json_response(201, {'issued_api_key': key_json(self.state.issued(proj['id'])[original], now)})
            seconds = resolve_ttl(ttl, proj['settings'])
            self._prefix(proj, visibility)
            quota = proj['settings']['key_quota']
            if self._active_count(proj, now) >= quota:
                raise ApiError(402, 'the API key quota for this plan permits up to %d active API keys' % quota,
                               'api_key_quota_exceeded', 'PERMISSION_DENIED')
            rec, secret = self._new_key(proj, fields, visibility, now + seconds, now)
            if request_id is not None:
                self.state.request_ids(proj['id'])[request_id] = rec['key_id']
            self.state.save()
            return json_response(201, {'issued_api_key': key_json(rec, now), 'secret': secret})

    # ----- get / list -----
    def get_key(self, req: Request):
        with self.state.lock:
            return json_response(200, key_json(self._key(req), self.state.now()))

    def _page_token(self, proj: dict, key_id: str, filter_text: str) -> str:
        payload = _b64(json.dumps({'k': key_id, 'f': hashlib.sha256(filter_text.encode()).hexdigest()[:16]}).encode())
        sig = hmac.new(proj['hmac_secret'].encode(), b'page-token:' + payload.encode(), hashlib.sha256).digest()[:16]
        return payload + '.' + _b64(sig)

    def _read_page_token(self, proj: dict, token: str, filter_text: str) -> str:
        try:
            payload, dummy, sig = token.partition('.')
            expected = hmac.new(proj['hmac_secret'].encode(), b'page-token:' + payload.encode(), hashlib.sha256).digest()[:16]
            if not hmac.compare_digest(_unb64(sig), expected):
                raise ValueError('bad signature')
            data = json.loads(_unb64(payload))
            if data['f'] != hashlib.sha256(filter_text.encode()).hexdigest()[:16]:
                raise ValueError('filter changed')
            return str(data['k'])
        except (ValueError, KeyError, TypeError, UnicodeError) as exc:
            raise bad_request('invalid page_token') from exc

    def list_keys(self, req: Request):
        return self.list_page(req, self.state.issued, 'issued_api_keys', key_json)

    def list_page(self, req: Request, records, field: str, to_json):
        """One page of a key list (issued keys here, imported keys in imported.py): page_size, the filter (actor_id,
        status) and a signed page_token. ``records(project_id)`` gives the keys by id, ``to_json`` renders one."""
        raw_size = req.query_one('page_size')
        page_size = DEFAULT_PAGE_SIZE
        if raw_size not in (None, ''):
            if not re.fullmatch(r'[+-]?\d{1,10}', raw_size.strip()):
                raise bad_request('invalid page_size %s: expected an integer' % json.dumps(raw_size))
            page_size = int(raw_size)
            if page_size <= 0:
                page_size = DEFAULT_PAGE_SIZE
            page_size = min(page_size, MAX_PAGE_SIZE)
        filter_text = req.query_one('filter') or ''
        wanted = parse_filter(filter_text)
        proj = req.project
        token = req.query_one('page_token')
        cursor = self._read_page_token(proj, token, filter_text) if token else None
        with self.state.lock:
            now = self.state.now()
            rows = sorted(records(proj['id']).values(), key=lambda rec: rec['key_id'])
            if 'actor_id' in wanted:
                rows = [rec for rec in rows if (rec.get('actor_id') or '') == wanted['actor_id']]
            if 'status' in wanted:
                rows = [rec for rec in rows if rec['status'] == wanted['status']]
            if cursor is not None:
                rows = [rec for rec in rows if rec['key_id'] > cursor]
            page = rows[:page_size + 1]
            more = len(page) > page_size
            page = page[:page_size]
            out = {field: [to_json(rec, now) for rec in page], 'next_page_token': ''}
        if more and page:
            out['next_page_token'] = self._page_token(proj, page[-1]['key_id'], filter_text)
        return json_response(200, out)

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
        check_key_id(req.params['key_id'])
        body = req.json()
        if isinstance(body.get('issued_api_key'), dict):
            body = body['issued_api_key']
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
                self.state.dirty(rec['key_id'])
                rec.update(changes)
                rec['update_time'] = now
                self.state.save()
            return json_response(200, key_json(rec, now))

    # ----- revoke -----
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
            self._revoke(rec, reason, description, self.state.now())
            self.state.save()
        return empty_response(204)

    # ----- rotate -----
    def rotate(self, req: Request):
        body = req.json()
        overrides = {}
        if body.get('name') is not None:
            overrides['name'] = opt_str(body, 'name')
        if body.get('scopes') is not None:
            overrides['scopes'] = opt_str_list(body, 'scopes')
        if body.get('metadata') is not None:
            overrides['metadata'] = check_metadata(opt_object(body, 'metadata'))
        if body.get('rate_limit_policy') is not None:
            overrides['rate_limit_policy'] = parse_rate_limit_policy(body['rate_limit_policy'])
        if body.get('ip_restriction') is not None:
            overrides['ip_restriction'] = parse_ip_restriction(body['ip_restriction'])
        visibility = opt_enum(body, 'visibility', VISIBILITIES)
        proj = req.project
        with self.state.lock:
            old = self._key(req)
            if old['status'] != ACTIVE:
                raise ApiError(409, 'cannot rotate a non-active key', 'failed_precondition', 'FAILED_PRECONDITION')
            if visibility in (None, VISIBILITIES[0]):
                visibility = old['visibility']
            now = self.state.now()
            fields = {name: old.get(name) for name in ('name', 'actor_id', 'scopes', 'metadata', 'rate_limit_policy', 'ip_restriction')}
            fields.update(overrides)
            rec, secret = self._new_key(proj, fields, visibility, old['expire_time'], now)
            self._revoke(old, SUPERSEDED, None, now)
            self.state.save()
            return json_response(201, {'issued_api_key': key_json(rec, now), 'secret': secret, 'old_issued_api_key': key_json(old, now)})

    # ----- verify -----
    def _lookup_credential(self, proj: dict, credential: str, now: int):
        """Return (record, None) or (None, VerificationErrorCode)."""
        if looks_like_jwt(credential):
            return None, 'VERIFICATION_ERROR_SIGNATURE_INVALID'
        if any(ord(char) < 33 or ord(char) > 126 for char in credential):
            return None, 'VERIFICATION_ERROR_INVALID_FORMAT'
        try:
            parsed = parse_v1(credential)
        except InvalidFormat:
            # Not a decodable v1 key, so routing sends it to the imported keys; unknown there: a malformed issued key.
            rec = self.state.imported(proj['id']).get(imported_key_id(proj['id'], credential))
            return (rec, None) if rec is not None else (None, 'VERIFICATION_ERROR_INVALID_FORMAT')
        if parsed is None:  # not an issued key: an imported one (contract 4.1, routing rule 4)
            rec = self.state.imported(proj['id']).get(imported_key_id(proj['id'], credential))
            return (rec, None) if rec is not None else (None, 'VERIFICATION_ERROR_NOT_FOUND')
        prefix, ident, check, issued_at, key_id = parsed
        if not checksum_ok(proj['hmac_secret'], prefix, ident, check):
            return None, 'VERIFICATION_ERROR_NOT_FOUND'
        if issued_at < now - proj['settings']['max_ttl'] - CLOCK_SKEW:
            return None, 'VERIFICATION_ERROR_NOT_FOUND'
        rec = self.state.issued(proj['id']).get(key_id)
        if rec is None or not hmac.compare_digest(rec['secret_hash'], hash_secret(credential)):
            return None, 'VERIFICATION_ERROR_NOT_FOUND'
        return rec, None

    def _verify_one(self, proj: dict, item: dict) -> dict:
        credential = opt_str(item, 'credential')
        audiences = opt_str_list(item, 'expected_audiences')
        if not credential:
            raise bad_request('credential is required', 'credential_required')
        if len(credential.encode('utf-8')) > MAX_CREDENTIAL_BYTES:
            raise bad_request('credential must be at most %d bytes' % MAX_CREDENTIAL_BYTES)
        now = self.state.now()
        rec, code = self._lookup_credential(proj, credential, now)
        if rec is not None:
            status = effective_status(rec, now)
            if status == REVOKED:
                code = 'VERIFICATION_ERROR_REVOKED'
            elif status == EXPIRED:
                code = 'VERIFICATION_ERROR_EXPIRED'
            elif audiences:
                code = 'VERIFICATION_ERROR_AUDIENCE_MISMATCH'
        if code:
            return {'is_valid': False, 'error_code': code, 'error_message': VERIFY_MESSAGES[code]}
        if rec.get('last_used_time') is None or rec['last_used_time'] // 86400 < now // 86400:
            self.state.dirty(rec['key_id'])
            rec['last_used_time'] = now
            self.state.save()
        out = {
            'is_valid': True,
            'key_id': rec['key_id'],
            'actor_id': rec.get('actor_id') or '',
            'scopes': list(rec.get('scopes') or []),
            'metadata': rec.get('metadata') or {},
            'expire_time': rfc3339(rec['expire_time']),
            'status': ACTIVE,
            'visibility': rec['visibility'],
            'issuer': self.issuer_for(proj),
        }
        if rec.get('rate_limit_policy') is not None:
            out['rate_limit_policy'] = rlp_json(rec['rate_limit_policy'])
        return out

    def verify(self, req: Request):
        body = req.json()
        with self.state.lock:
            return json_response(200, self._verify_one(req.project, body))

    def batch_verify(self, req: Request):
        body = req.json()
        items = body.get('requests')
        if items is None:
            items = []
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise bad_request('invalid value for field "requests": expected a list of VerifyApiKeyRequest objects')
        if len(items) > MAX_BATCH_VERIFY:
            raise bad_request('at most %d credentials can be verified in one batch' % MAX_BATCH_VERIFY)
        with self.state.lock:
            return json_response(200, {'results': [self._verify_one(req.project, item) for item in items]})

    # ----- self-revoke (public) -----
    def self_revoke(self, req: Request):
        body = req.json()
        credential = opt_str(body, 'credential')
        reason = opt_enum(body, 'reason', REASONS)
        if not credential:
            raise bad_request('credential is required', 'credential_required')
        if len(credential.encode('utf-8')) > MAX_CREDENTIAL_BYTES:
            raise bad_request('credential must be at most %d bytes' % MAX_CREDENTIAL_BYTES)
        if reason == PRIVILEGE_WITHDRAWN:
            raise bad_request('REVOCATION_REASON_PRIVILEGE_WITHDRAWN is not allowed for self-revocation')
        if reason in (None, REASONS[0]):
            raise bad_request('reason is required: REVOCATION_REASON_UNSPECIFIED is not allowed')
        if looks_like_jwt(credential):
            raise bad_request('derived tokens (JWT or macaroon) cannot be revoked', 'derived_token_not_revocable')
        proj = req.project
        with self.state.lock:
            now = self.state.now()
            rec, code = self._lookup_credential(proj, credential, now)
            if code == 'VERIFICATION_ERROR_INVALID_FORMAT':
                raise bad_request('the API key format is invalid', 'invalid_api_key_format')
            if rec is None:
                raise not_found()
            if rec['status'] == REVOKED:
                return json_response(200, {})
            if rec['visibility'] == PUBLIC:
                raise ApiError(403, 'public API keys cannot be self-revoked; use the admin revocation endpoint', 'forbidden', 'PERMISSION_DENIED')
            self._revoke(rec, reason, None, now)
            self.state.save()
        return json_response(200, {})
