# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ory Talos (project plane): issued API keys and verification.

Everything the issued-key modules do over HTTP goes through ``Talos``, which wraps an ``OryClient``.
The write methods are safe after an ambiguous failure (a response lost after the server acted):

- issue sends a ``request_id``; a replay of the same id returns the original key *without* its secret,
  so such an orphan is revoked and a fresh key is issued with a new id (a live key whose secret nobody
  has is never left behind);
- revoke treats "already revoked" (HTTP 409, or REVOKED on re-read) as done;
- rotate re-reads the old key; if the server already rotated it, the successor (whose secret is lost)
  is found and revoked, and a fresh key is issued in its place.
"""

from __future__ import annotations

import datetime
import ipaddress
import uuid

from ansible_collections.ory.network.plugins.module_utils._api_keys import (
    UsageError, expiry_facts, format_time, leftovers_beside, now, parse_duration, parse_time,
)
from ansible_collections.ory.network.plugins.module_utils._client import OryApiError
from ansible_collections.ory.network.plugins.module_utils._console import ExplainedApiError
from ansible_collections.ory.network.plugins.module_utils._options import OptionError

ISSUED_PATH = '/v2alpha1/admin/issuedApiKeys'
VERIFY_PATH = '/v2alpha1/admin/apiKeys:verify'

ACTIVE = 'KEY_STATUS_ACTIVE'
REVOKED = 'KEY_STATUS_REVOKED'
EXPIRED = 'KEY_STATUS_EXPIRED'

STATUS_CHOICES = {'active': ACTIVE, 'revoked': REVOKED, 'expired': EXPIRED}
VISIBILITY_CHOICES = {'secret': 'KEY_VISIBILITY_SECRET', 'public': 'KEY_VISIBILITY_PUBLIC'}
REVOKE_REASONS = ('key_compromise', 'affiliation_changed', 'superseded', 'privilege_withdrawn')

# Every field of an IssuedApiKey, with the value shown when the API leaves it out.
KEY_FIELDS = (
    ('key_id', None), ('name', None), ('actor_id', None), ('scopes', list), ('metadata', dict),
    ('status', None), ('visibility', None), ('create_time', None), ('update_time', None),
    ('expire_time', None), ('last_used_time', None), ('revocation_reason', None),
    ('revocation_description', None), ('rate_limit_policy', None), ('ip_restriction', None),
)

# The fields PATCH may change (update_mask paths), in a stable order.
MUTABLE_PATHS = ('name', 'scopes', 'metadata', 'rate_limit_policy', 'ip_restriction')

# How far a successor's create_time may precede our clock when looking for an orphan (clock skew).
_SKEW = 300
# How often issue is repeated when each response is lost after the server created the key.
_ISSUE_ATTEMPTS = 3


# ---------------------------------------------------------------- values


def revoke_reason_value(reason):
    """'superseded' -> 'REVOCATION_REASON_SUPERSEDED' (UNSPECIFIED is rejected by the API, never sent)."""
    return 'REVOCATION_REASON_%s' % reason.upper()


def effective_status(key, at=None):
    """The key's status, with an ACTIVE key whose expire_time has passed counted as EXPIRED."""
    status = key.get('status') or ACTIVE
    if status == ACTIVE and expiry_facts(key.get('expire_time'), at)[0]:
        return EXPIRED
    return status


def normalize_cidrs(cidrs, option='ip_allowlist'):
    """Validate CIDRs; return them in canonical form (host bits cleared), sorted, for comparing."""
    result = []
    for cidr in cidrs or []:
        try:
            result.append(str(ipaddress.ip_network(str(cidr).strip(), strict=False)))
        except ValueError:
            raise OptionError("%s must hold IPv4 or IPv6 CIDRs such as 10.0.0.0/8, not '%s'." % (option, cidr)) from None
    return sorted(set(result))


def rate_limit_policy(rate_limit):
    """Turn the rate_limit option into the API's rate_limit_policy (None: option not given; {}: no limit)."""
    if rate_limit is None:
        return None
    quota, window = rate_limit.get('quota'), rate_limit.get('window')
    if quota is None and window is None:
        return {}
    if quota is None or window is None:
        raise OptionError('rate_limit needs both quota and window (or {} for no rate limit).')
    if quota < 1:
        raise OptionError('rate_limit.quota must be a positive number of requests.')
    seconds = parse_duration(window, 'rate_limit.window')
    if seconds < 1:
        raise OptionError('rate_limit.window must be at least one second.')
    # protojson durations are seconds with an "s" suffix; int64 values travel as strings
    return {'quota': str(quota), 'window': '%ds' % seconds, 'unit': 'requests'}


def _policy_facts(policy):
    """Comparable form of a rate_limit_policy: (quota, window seconds) or None."""
    if not policy or policy.get('quota') in (None, '', '0', 0):
        return None
    return int(policy['quota']), parse_duration(policy.get('window') or 0, 'rate_limit_policy.window')


def present_key(key, at=None):
    """An IssuedApiKey as the modules return it: every field present, quota as int, plus days_to_expiry."""
    key = key or {}
    result = {}
    for field, empty in KEY_FIELDS:
        value = key.get(field)
        result[field] = empty() if value is None and empty else value
    policy = key.get('rate_limit_policy')
    if policy and policy.get('quota') not in (None, ''):
        result['rate_limit_policy'] = {'quota': int(policy['quota']), 'window': policy.get('window'),
                                       'unit': policy.get('unit') or 'requests'}
    else:
        result['rate_limit_policy'] = None
    cidrs = (key.get('ip_restriction') or {}).get('allowed_cidrs') or []
    result['ip_restriction'] = {'allowed_cidrs': list(cidrs)}
    result['days_to_expiry'] = expiry_facts(key.get('expire_time'), at)[1]
    if result.get('status') == ACTIVE and key.get('expire_time'):
        result['status'] = effective_status(key, at)
    return result


def diff_view(key):
    """What a diff shows of a key: its descriptive fields, never a secret."""
    if not key:
        return {}
    shown = present_key(key)
    return dict((k, shown.get(k)) for k in ('key_id', 'name', 'actor_id', 'scopes', 'metadata', 'visibility', 'status',
                                            'expire_time', 'rate_limit_policy', 'ip_restriction', 'revocation_reason'))


# ---------------------------------------------------------------- desired state


class Desired:
    """What the task asks for; None for every option it leaves alone."""

    def __init__(self, params):
        self.name = params.get('name')
        self.actor_id = params.get('actor_id')
        self.scopes = params.get('scopes')
        self.metadata = params.get('metadata')
        self.ttl = params.get('ttl')
        if self.ttl is not None:
            self.ttl = str(self.ttl).strip()
            if parse_duration(self.ttl, 'ttl') < 1:
                raise OptionError('ttl must be at least one second: Ory never issues keys that do not expire.')
            if self.ttl.isdigit():
                self.ttl += 's'            # a bare number is seconds; the API needs a unit
        visibility = params.get('visibility')
        self.visibility = VISIBILITY_CHOICES[visibility] if visibility else None
        cidrs = params.get('ip_allowlist')
        self.cidrs = normalize_cidrs(cidrs) if cidrs is not None else None
        self.ip_allowlist = [str(c).strip() for c in cidrs] if cidrs is not None else None
        self.rate_limit_policy = rate_limit_policy(params.get('rate_limit'))

    def mutable_changes(self, key, rename):
        """Return {mask path: new value} for what differs from ``key`` (name only when ``rename``)."""
        changes = {}
        if rename and self.name is not None and self.name != (key.get('name') or ''):
            changes['name'] = self.name
        if self.scopes is not None and sorted(set(self.scopes)) != sorted(set(key.get('scopes') or [])):
            changes['scopes'] = list(self.scopes)
        if self.metadata is not None and self.metadata != (key.get('metadata') or {}):
            changes['metadata'] = self.metadata
        if self.rate_limit_policy is not None and \
                _policy_facts(self.rate_limit_policy) != _policy_facts(key.get('rate_limit_policy')):
            changes['rate_limit_policy'] = self.rate_limit_policy or None
        if self.cidrs is not None and \
                self.cidrs != normalize_cidrs((key.get('ip_restriction') or {}).get('allowed_cidrs'), 'ip_restriction'):
            changes['ip_restriction'] = {'allowed_cidrs': self.ip_allowlist}
        return changes

    def immutable_changes(self, key):
        """Names of the differences PATCH cannot make (actor_id, visibility)."""
        changes = []
        if self.actor_id is not None and self.actor_id != (key.get('actor_id') or ''):
            changes.append("actor_id ('%s' -> '%s')" % (key.get('actor_id') or '', self.actor_id))
        if self.visibility is not None and self.visibility != (key.get('visibility') or 'KEY_VISIBILITY_SECRET'):
            changes.append('visibility (%s -> %s)' % (key.get('visibility') or 'KEY_VISIBILITY_SECRET', self.visibility))
        return changes

    def issue_body(self, base=None, ttl=None):
        """Body of an issue request: the task's options over ``base`` (the key being replaced, if any)."""
        base = base or {}
        body = {}
        name = self.name if self.name is not None else base.get('name')
        actor_id = self.actor_id if self.actor_id is not None else base.get('actor_id')
        if name:
            body['name'] = name
        if actor_id:
            body['actor_id'] = actor_id
        scopes = self.scopes if self.scopes is not None else base.get('scopes')
        if scopes:
            body['scopes'] = list(scopes)
        metadata = self.metadata if self.metadata is not None else base.get('metadata')
        if metadata:
            body['metadata'] = metadata
        visibility = self.visibility or base.get('visibility')
        if visibility:
            body['visibility'] = visibility
        policy = self.rate_limit_policy if self.rate_limit_policy is not None else base.get('rate_limit_policy')
        if policy:
            body['rate_limit_policy'] = {'quota': str(policy['quota']), 'window': policy.get('window'), 'unit': 'requests'}
        cidrs = self.ip_allowlist if self.ip_allowlist is not None else (base.get('ip_restriction') or {}).get('allowed_cidrs')
        if cidrs:
            body['ip_restriction'] = {'allowed_cidrs': list(cidrs)}
        ttl = ttl or self.ttl
        if ttl:
            body['ttl'] = ttl
        return body

    def predicted(self, base=None, ttl=None):
        """The key check mode predicts for an issue (no key_id, no times the server would set)."""
        body = self.issue_body(base, ttl)
        body.pop('ttl', None)
        body['status'] = ACTIVE
        body.setdefault('visibility', 'KEY_VISIBILITY_SECRET')
        ttl = ttl or self.ttl
        if ttl:
            body['expire_time'] = format_time(now() + datetime.timedelta(seconds=parse_duration(ttl, 'ttl')))
        return body


def remaining_ttl(key, at=None):
    """The rest of a key's lifetime as a ttl string ('123s'), or None when it has none left."""
    stamp = parse_time(key.get('expire_time'))
    if stamp is None:
        return None
    seconds = int((stamp - (at or now())).total_seconds())
    return '%ds' % seconds if seconds > 0 else None


# ---------------------------------------------------------------- API


class Talos:
    """The issued-key endpoints of one project."""

    def __init__(self, client):
        self.client = client

    # reads

    def get(self, key_id):
        """The key, or None when the API does not know it."""
        try:
            return self.client.request('GET', '%s/%s' % (ISSUED_PATH, key_id))
        except OryApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, actor_id=None, status=None):
        """Every issued key (all pages), narrowed on the server by actor_id (and status, which needs actor_id)."""
        clauses = []
        if actor_id is not None:
            clauses.append('actor_id="%s"' % actor_id.replace('\\', '\\\\').replace('"', '\\"'))
            if status:
                clauses.append('status=%s' % status)
        params = {'filter': ' AND '.join(clauses)} if clauses else None
        return list(self.client.paginate(ISSUED_PATH, 'issued_api_keys', params=params))

    def find_live(self, name, actor_id=None, stored_key_id=None, leftovers=None, set_aside=None):
        """The one usable key with this name (and actor), or an expired one to replace, or None.

        A key is usable when its status is ACTIVE and it has not expired. Two usable keys with one name
        are an error naming both ids. With no usable key, the most recent expired (never revoked) key
        is returned so that it can be replaced. Revoked keys are never matched.

        ``set_aside(usable)`` returns the usable keys without the ones to leave alone.

        With ``stored_key_id`` (the key whose secret is stored) among several usable keys, the others are what an
        interrupted replacement left live (``leftovers_beside``): they are appended to ``leftovers`` and the stored key
        is returned.
        """
        if actor_id is not None:
            keys = self.list(actor_id=actor_id, status=ACTIVE)   # a status-only filter is rejected
        else:
            keys = self.list()
        candidates = [k for k in keys if k.get('name') == name and (actor_id is None or k.get('actor_id') == actor_id)]
        usable = [k for k in candidates if effective_status(k) == ACTIVE]
        if set_aside is not None:
            usable = set_aside(usable)   # the vault variable's previous key, in its grace period: neither matched nor stale
        stale = leftovers_beside(usable, stored_key_id, 'key_id')
        if stale and leftovers is not None:
            leftovers.extend(stale)
            usable = [k for k in usable if k not in stale]
        if len(usable) > 1:
            what = "name '%s'" % name + (" with actor_id '%s'" % actor_id if actor_id is not None else '')
            ids = ', '.join(sorted(str(k.get('key_id')) for k in usable))
            raise UsageError('%s matches %d active keys (%s); names are not unique in Ory Network, so give key_id '
                             'of the one to manage or revoke the others.' % (what, len(usable), ids))
        if usable:
            return usable[0]
        expired = [k for k in candidates if effective_status(k) == EXPIRED]
        if expired:
            return sorted(expired, key=lambda k: k.get('expire_time') or '')[-1]
        return None

    # writes

    def issue(self, body, keep_ids=()):
        """Issue a key; return (key, secret). Safe to call when a response may be lost (see module docstring).

        ``keep_ids``: ids of live keys with the same name that this call must never revoke (the key being replaced).
        """
        for dummy in range(_ISSUE_ATTEMPTS):
            # One request_id per issue: retries of this request re-send it, so the server creates at most one key.
            request = dict(body, request_id=str(uuid.uuid4()))
            response = self._issue_once(request, keep_ids)
            key = response.get('issued_api_key') or {}
            secret = response.get('secret')
            if secret:
                return key, secret
            if not key.get('key_id'):
                raise OryApiError('POST', ISSUED_PATH, message='the issue response holds neither a key nor a secret')
            # A replay: the first response (and its secret) was lost. Nobody can use this key: retire it, try again.
            self.revoke(key['key_id'], 'superseded')
        raise OryApiError('POST', ISSUED_PATH, message='the secret of each newly issued key was lost in transit %d times; '
                          'the orphaned keys were revoked' % _ISSUE_ATTEMPTS)

    def _issue_once(self, request, keep_ids):
        """Send one issue (same request_id on every retry). When it fails for good after an attempt that the server may
        have carried out, replay it once more (a replay never creates a second key, and names the key it created); when
        that fails too, revoke every key this request may have created without its secret, and say which."""
        started = now()
        try:
            return self.client.request('POST', ISSUED_PATH, body=request, expected=(200, 201), idempotent=True) or {}
        except OryApiError as exc:
            if not exc.maybe_done:
                raise
            first = exc
        try:
            return self.client.request('POST', ISSUED_PATH, body=request, expected=(200, 201), idempotent=True) or {}
        except OryApiError as exc:
            if not exc.maybe_done:
                raise
        name = request.get('name') or ''
        what = "Issuing key '%s' (request_id %s) failed (%s)" % (name, request['request_id'], str(first).rstrip('.'))
        try:
            orphans = [k for k in self._successors(dict(request, key_id=None, expire_time=None), started, any_expiry=True)
                       if k.get('key_id') not in keep_ids]
            for orphan in orphans:
                self.revoke(orphan['key_id'], 'superseded')
        except OryApiError as exc:
            raise ExplainedApiError(first, (
                "%s, and the keys could not be re-read to revoke one it may have issued without its secret (%s): revoke every "
                "active key named '%s' issued since %s with state: absent and key_id." % (what, str(exc).rstrip('.'), name, format_time(started)))) from None
        if orphans:
            raise ExplainedApiError(first, '%s; the key(s) it issued whose secret never arrived were revoked: %s.'
                                    % (what, ', '.join(k['key_id'] for k in orphans))) from None
        raise ExplainedApiError(first, '%s; no key issued by it was found, so nothing was left behind.' % what) from None

    def patch(self, key_id, changes):
        """PATCH only the changed fields; the update_mask names exactly those paths."""
        paths = [p for p in MUTABLE_PATHS if p in changes]
        body = dict((p, changes[p]) for p in paths if changes[p] is not None)
        return self.client.request('PATCH', '%s/%s' % (ISSUED_PATH, key_id), params={'update_mask': ','.join(paths)},
                                   body=body, expected=(200,), idempotent=True)

    def revoke(self, key_id, reason, description=None):
        """Revoke a key. Return True when this call revoked it, False when it already was revoked."""
        path = '%s/%s:revoke' % (ISSUED_PATH, key_id)
        body = {'reason': revoke_reason_value(reason)}
        if description:
            body['description'] = description

        def recover():
            key = self.get(key_id)
            return {'already': True} if key is None or key.get('status') == REVOKED else None

        try:
            outcome = self.client.request('POST', path, body=body, expected=(200, 204), recover=recover)
        except OryApiError as exc:
            if exc.status == 409:        # "key is already revoked": revocation is what we wanted
                return False
            raise
        return not (isinstance(outcome, dict) and outcome.get('already'))

    def rotate(self, key, changes=None, ttl=None):
        """Rotate with the server's :rotate; return (new key, secret, old key).

        ``changes`` are presence-based overrides (name, scopes, metadata, rate_limit_policy,
        ip_restriction). After an ambiguous failure the old key is re-read:
        - still ACTIVE: the rotate did not happen and is sent again;
        - REVOKED: the server rotated it and the response, with the new secret, is gone. The successor is
          found (ACTIVE, same name and actor_id, the old key's expire_time, created after we started) and
          revoked, then a fresh key with the same attributes is issued. It gets ``ttl`` or else the old
          key's remaining lifetime, as :rotate would have given it.
        """
        key_id = key['key_id']
        started = now()
        body = dict(changes or {})
        lost = {}

        def recover():
            current = self.get(key_id)
            if current is not None and current.get('status') == ACTIVE:
                return None
            lost['old'] = current or key
            return {'lost': True}

        response = self.client.request('POST', '%s/%s:rotate' % (ISSUED_PATH, key_id), body=body,
                                       expected=(200, 201), recover=recover) or {}
        if not lost and response.get('secret'):
            return response.get('issued_api_key') or {}, response['secret'], response.get('old_issued_api_key') or key
        # The rotation happened but its secret was lost: retire the successor, issue a replacement.
        merged = dict(key)
        merged.update((k, v) for k, v in body.items())
        for orphan in self._successors(merged, started):
            self.revoke(orphan['key_id'], 'superseded')
        issue_body = Desired({}).issue_body(merged, ttl or remaining_ttl(key, started))
        new, secret = self.issue(issue_body)
        return new, secret, lost.get('old') or key

    def _successors(self, old, started, any_expiry=False):
        """Active keys that look like the successor of ``old`` (its attributes after the rotation's overrides)."""
        keys = self.list(actor_id=old.get('actor_id'), status=ACTIVE) if old.get('actor_id') else self.list()
        since = started.timestamp() - _SKEW
        found = []
        for k in keys:
            created = parse_time(k.get('create_time'))
            if k.get('key_id') == old.get('key_id') or k.get('status') != ACTIVE:
                continue
            if (k.get('name') or '') != (old.get('name') or '') or (k.get('actor_id') or '') != (old.get('actor_id') or ''):
                continue
            if not any_expiry and k.get('expire_time') != old.get('expire_time'):
                continue
            if created is None or created.timestamp() >= since:
                found.append(k)
        return found

    def verify(self, credential, audiences=None):
        body = {'credential': credential}
        if audiences:
            body['expected_audiences'] = list(audiences)
        return self.client.request('POST', VERIFY_PATH, body=body, expected=(200,), idempotent=True) or {}
