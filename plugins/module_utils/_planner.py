# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one decision engine: what to do with each API key of a plane. Pure: no I/O, no clock of its own.

Inputs: the declared keys of a plane (checked with the collection's own parsers by ``parse_declarations``),
the live keys of that plane as the API lists them, a secret-free view of the vault file (``stored_view``)
and the time. Output: one ``Step`` per key with an action and a one-line reason:

none | create | update | rotate | replace | retire | prune | grace | fail

``grace`` is the one state between two runs: the key a replacement superseded stays live (the vault file's metadata
records it as ``previous``: id, name, retire-after time, never its secret) until one of its retire triggers holds.

The bootstrap role (through its engine action) plans many keys with it, the key modules one.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.ory.network.plugins.module_utils._api_keys import (
    expires_within, expiry_facts, format_time, leftovers_beside, normalize_time, parse_duration, parse_time,
)
from ansible_collections.ory.network.plugins.module_utils._options import OptionError
from ansible_collections.ory.network.plugins.module_utils._talos import ACTIVE, Desired, effective_status

ACTIONS = ('none', 'create', 'update', 'rotate', 'replace', 'retire', 'prune', 'grace', 'fail')
CHANGING = ('create', 'update', 'rotate', 'replace', 'retire', 'prune')
MANAGED_BY = 'ory.network'
RESERVED_METADATA = ('managed_by', 'environment')

ENVIRONMENT_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
VAR_RE = re.compile(r'^[A-Za-z][A-Za-z0-9_]*$')

PROJECT_FIELDS = ('name', 'expires_at', 'expires_in', 'rotate_before', 'vault_var', 'retire_after')
ISSUED_FIELDS = ('name', 'actor_id', 'scopes', 'metadata', 'ttl', 'ip_allowlist', 'rate_limit', 'rotate_before', 'vault_var',
                 'retire_after', 'retire_when_used')
PREVIOUS_FIELDS = ('key_id', 'name', 'replaced_at', 'retire_after', 'retire_when_used')

_B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
_B58_INDEX = dict((char, pos) for pos, char in enumerate(_B58))
_V1_RE = re.compile(r'^[A-Za-z0-9_]{1,16}_v1_([1-9A-HJ-NP-Za-km-z]+)_[1-9A-HJ-NP-Za-km-z]+$')
_UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')


class PlanError(Exception):
    """A declaration the engine refuses before any call. The message is one sentence naming the key and option."""


# ---------------------------------------------------------------- stored secrets, seen without the secrets


def embedded_key_id(secret):
    """The key id inside an ``<prefix>_v1_<base58("<unix>:<uuid>")>_<checksum>`` secret, or None for other shapes."""
    match = _V1_RE.match(str(secret or ''))
    if not match:
        return None
    number = 0
    for char in match.group(1):
        number = number * 58 + _B58_INDEX[char]
    try:
        text = number.to_bytes((number.bit_length() + 7) // 8, 'big').decode('ascii')
    except UnicodeDecodeError:
        return None
    stamp, dummy, key_id = text.partition(':')
    return key_id if stamp.isdigit() and _UUID_RE.match(key_id) else None


def stored_view(data):
    """A secret-free view of a vault file's variables: ``{var: {key_id, secret, embedded_id, last_characters}}``.

    ``secret`` tells whether a non-empty secret is stored; ``embedded_id`` is the key id inside an issued key's
    secret (None for other secrets); ``last_characters`` the last 4 characters (project keys are compared by them).
    """
    view = {}
    for var, value in (data or {}).items():
        if not isinstance(var, str) or var.endswith('_meta'):
            continue
        meta = data.get(var + '_meta')
        meta = meta if isinstance(meta, dict) else {}
        secret = value if isinstance(value, str) else ''
        view[var] = {'key_id': str(meta.get('key_id') or ''), 'secret': bool(secret),
                     'embedded_id': embedded_key_id(secret), 'last_characters': secret[-4:] if secret else '',
                     'previous': previous_of(meta)}
    for var, meta in (data or {}).items():
        if isinstance(var, str) and var.endswith('_meta') and var[:-5] not in view and isinstance(meta, dict):
            view[var[:-5]] = {'key_id': str(meta.get('key_id') or ''), 'secret': False, 'embedded_id': None, 'last_characters': '',
                              'previous': previous_of(meta)}
    return view


def stored_key(view, var):
    """(key id whose secret the vault file holds for ``var``, or '' ; why not, when '')."""
    entry = (view or {}).get(var)
    if not entry or not entry.get('secret'):
        return '', 'the vault file holds no secret for this key'
    embedded = entry.get('embedded_id')
    if embedded and entry.get('key_id') and embedded != entry['key_id']:
        return '', 'the stored secret belongs to key %s, not to the key %s its metadata names' % (embedded, entry['key_id'])
    if not entry.get('key_id'):
        return '', 'the vault file holds a secret without the id of its key'
    return entry['key_id'], ''


# ---------------------------------------------------------------- the grace period: the previous key


def previous_of(meta):
    """The ``previous`` record of a vault file's ``<var>_meta`` (a key a replacement superseded, still live), or None."""
    previous = (meta or {}).get('previous') if isinstance(meta, dict) else None
    if not isinstance(previous, dict) or not previous.get('key_id'):
        return None
    return dict((field, previous.get(field)) for field in PREVIOUS_FIELDS)


def previous_record(key_id, name, replaced_at, retire_after=None, retire_when_used=False):
    """The ``previous`` metadata of a superseded key: never its secret. ``replaced_at``: when the new key was made (an aware
    datetime, on Ory Network's clock); ``retire_after``: the grace period in seconds (None: only another trigger retires it)."""
    return {'key_id': str(key_id), 'name': name, 'replaced_at': format_time(replaced_at),
            'retire_after': format_time(replaced_at + datetime.timedelta(seconds=retire_after)) if retire_after else None,
            'retire_when_used': bool(retire_when_used)}


def grace_wanted(retire_after, retire_when_used):
    """Whether a replacement keeps the key it supersedes live (a grace period, or waiting for the new key's first use)."""
    return bool(retire_after) or bool(retire_when_used)


def previous_due(previous, at, retire_previous=False, new_key=None):
    """(due, reason) for a previous key: due when ``retire_previous`` is set, its retire-after time has passed (on ``at``,
    Ory Network's clock), or (``retire_when_used``) the new key ``new_key`` shows a last_used_time; else why it waits."""
    if retire_previous:
        return True, 'previous key, retired by retire_previous'
    until = parse_time(previous.get('retire_after')) if previous.get('retire_after') else None
    if until is not None and at is not None and at >= until:
        return True, 'previous key, its grace period ended at %s' % format_time(until)
    used = (new_key or {}).get('last_used_time') if previous.get('retire_when_used') else None
    if used:
        return True, 'previous key, the new key %s was used at %s' % ((new_key or {}).get('key_id') or '', normalize_time(used, 'last_used_time'))
    waits = []
    if until is not None:
        waits.append('until %s' % format_time(until))
    if previous.get('retire_when_used'):
        waits.append('until the new key is first used')
    waits.append('or a run with retire_previous')
    return False, 'previous key in its grace period: kept live %s' % ', '.join(waits)


def deferred_reason(reason, previous_id):
    """Why a replacement that is due waits: the key's previous key is still in its grace period. Replacing now would make
    the current key the previous one and retire the older key, which services may still use (nothing deployed the
    current secret yet, as far as the run can tell). It is replaced by the first run after that key is retired."""
    return '%s; waits while its previous key %s is in its grace period (replaced once that key is retired)' % (reason, previous_id)


# ---------------------------------------------------------------- declarations


def default_var(plane, name):
    return 'ory_%s_api_key_%s' % (plane, re.sub(r'[^A-Za-z0-9_]', '_', str(name)))


class _Decl:
    plane = ''
    fields = ()

    def __init__(self, item, index, prefix, what, defaults=None):
        if not isinstance(item, dict):
            raise PlanError('%s[%d] must be a mapping with at least a name.' % (what, index))
        if self.plane == 'project' and item.get('retire_when_used') is not None:
            raise PlanError('%s[%d]: retire_when_used applies to issued keys only; the console API records no use of project '
                            'API keys.' % (what, index))
        unknown = sorted(str(k) for k in item if k not in self.fields)
        if unknown:
            raise PlanError('%s[%d] has unknown options: %s (known: %s).' % (what, index, ', '.join(unknown), ', '.join(self.fields)))
        name = item.get('name')
        if name in (None, '') or not isinstance(name, (str, int)):
            raise PlanError('%s[%d] needs a name.' % (what, index))
        self.name = str(name)
        self.full_name = '%s%s' % (prefix, self.name)
        self.label = "%s[%d] '%s'" % (what, index, self.name)
        self.vault_var = str(item.get('vault_var') or default_var(self.plane, self.name))
        if not VAR_RE.match(self.vault_var):
            raise PlanError('%s: vault_var %r is not a valid variable name (a letter, then letters, digits and _).' % (self.label, self.vault_var))
        self.rotate_before_text = self._text(item, 'rotate_before')
        self.rotate_before = self._duration('rotate_before', self.rotate_before_text)
        defaults = defaults or {}
        # a key's own value wins; null (left out, or filled in by the role's argument spec) means the global one
        retire_after = self._text(item, 'retire_after') if item.get('retire_after') is not None else self._text(defaults, 'retire_after')
        self.retire_after = self._duration('retire_after', retire_after) or None
        when_used = item.get('retire_when_used')
        if when_used is None:
            when_used = defaults.get('retire_when_used') if self.plane == 'issued' else False
        if not isinstance(when_used, bool) and when_used not in (None, ''):
            raise PlanError('%s: retire_when_used must be a boolean.' % self.label)
        self.retire_when_used = bool(when_used)

    @staticmethod
    def _text(item, field):
        value = item.get(field)
        return None if value in (None, '') else str(value).strip()

    def _duration(self, field, text):
        if text is None:
            return None
        try:
            return parse_duration(text, field)
        except OptionError as exc:
            raise PlanError('%s: %s' % (self.label, exc)) from None

    def _lifetime_check(self, field, lifetime):
        if lifetime is not None and self.rotate_before is not None and lifetime <= self.rotate_before:
            raise PlanError('%s: %s (%s) must be longer than rotate_before (%s), or the key would be replaced on every run.'
                            % (self.label, field, self._lifetime_text, self.rotate_before_text))


class ProjectDecl(_Decl):
    """A declared project API key (console plane)."""

    plane = 'project'
    fields = PROJECT_FIELDS

    def __init__(self, item, index, prefix, at, what='project_api_keys', defaults=None):
        super().__init__(item, index, prefix, what, defaults)
        expires_at, expires_in = self._text(item, 'expires_at'), self._text(item, 'expires_in')
        if expires_at and expires_in:
            raise PlanError('%s: give expires_at or expires_in, not both.' % self.label)
        try:
            self.expires_at = normalize_time(expires_at, 'expires_at')
        except OptionError as exc:
            raise PlanError('%s: %s' % (self.label, exc)) from None
        self.expires_in = self._duration('expires_in', expires_in)
        self._lifetime_text = expires_in
        if self.expires_in is not None and self.expires_in < 1:
            raise PlanError('%s: expires_in must be at least one second, not %r.' % (self.label, expires_in))
        if self.expires_at is not None:
            left = expiry_facts(self.expires_at, at)
            if left[0]:
                raise PlanError('%s: expires_at %s is in the past.' % (self.label, self.expires_at))
            if self.rotate_before is not None and expires_within(self.expires_at, self.rotate_before, at):
                raise PlanError('%s: expires_at %s is within rotate_before (%s), so the key would be replaced on every run.'
                                % (self.label, self.expires_at, self.rotate_before_text))
        self._lifetime_check('expires_in', self.expires_in)

    def new_expiry(self, at):
        """Expiry of a key created now: expires_at, else now + expires_in, else None (never)."""
        if self.expires_at:
            return self.expires_at
        if self.expires_in:
            return format_time(at + datetime.timedelta(seconds=self.expires_in))
        return None


class IssuedDecl(_Decl):
    """A declared issued API key (Talos plane), marked with the environment's metadata."""

    plane = 'issued'
    fields = ISSUED_FIELDS

    def __init__(self, item, index, prefix, environment, what='issued_api_keys', defaults=None):
        super().__init__(item, index, prefix, what, defaults)
        actor = item.get('actor_id')
        if actor in (None, '') or not isinstance(actor, (str, int)):
            raise PlanError('%s needs an actor_id.' % self.label)
        metadata = item.get('metadata') or {}
        if not isinstance(metadata, dict):
            raise PlanError('%s: metadata must be a mapping.' % self.label)
        reserved = sorted(k for k in metadata if k in RESERVED_METADATA)
        if reserved:
            raise PlanError('%s: metadata must not set %s; the engine sets them to mark the key as this environment\'s.'
                            % (self.label, ' and '.join(reserved)))
        scopes = item.get('scopes') or []
        cidrs = item.get('ip_allowlist') or []
        for field, value in (('scopes', scopes), ('ip_allowlist', cidrs)):
            if not isinstance(value, list):
                raise PlanError('%s: %s must be a list.' % (self.label, field))
        rate_limit = item.get('rate_limit') or {}
        if not isinstance(rate_limit, dict):
            raise PlanError('%s: rate_limit must be a mapping with quota and window.' % self.label)
        if rate_limit:
            unknown = sorted(str(k) for k in rate_limit if k not in ('quota', 'window'))
            if unknown:
                raise PlanError('%s: rate_limit has unknown options: %s.' % (self.label, ', '.join(unknown)))
            try:
                rate_limit = {'quota': int(rate_limit.get('quota')), 'window': str(rate_limit.get('window'))} \
                    if rate_limit.get('quota') is not None and rate_limit.get('window') is not None else rate_limit
            except (TypeError, ValueError):
                raise PlanError('%s: rate_limit.quota must be a whole number.' % self.label) from None
        self.ttl_text = self._text(item, 'ttl')
        self._lifetime_text = self.ttl_text
        self.actor_id = str(actor)
        self.metadata = dict(metadata, managed_by=MANAGED_BY, environment=environment)
        try:
            # The modules' own parsers and comparison: ttl, CIDRs, rate limit.
            self.desired = Desired({'name': self.full_name, 'actor_id': self.actor_id, 'scopes': [str(s) for s in scopes],
                                    'metadata': self.metadata, 'ttl': self.ttl_text, 'ip_allowlist': [str(c) for c in cidrs],
                                    'rate_limit': rate_limit})
        except OptionError as exc:
            raise PlanError('%s: %s' % (self.label, exc)) from None
        self.ttl = parse_duration(self.ttl_text, 'ttl') if self.ttl_text else None
        self._lifetime_check('ttl', self.ttl)


def parse_declarations(environment, prefix, project_items, issued_items, talos_key=None, at=None, defaults=None):
    """Check every declaration with the modules' parsers; return (project decls, issued decls). Raises PlanError.

    ``defaults``: values of retire_after and retire_when_used for keys that do not set their own (retire_when_used
    applies to issued keys only: the console API records no use of project API keys)."""
    if not isinstance(environment, str) or not ENVIRONMENT_RE.match(environment):
        raise PlanError("environment %r must use letters, digits, '.', '_' and '-', starting with a letter or digit." % (environment,))
    if not isinstance(project_items or [], list) or not isinstance(issued_items or [], list):
        raise PlanError('project_api_keys and issued_api_keys must be lists.')
    project = [ProjectDecl(item, i, prefix, at, defaults=defaults) for i, item in enumerate(project_items or [])]
    issued = [IssuedDecl(item, i, prefix, environment, defaults=defaults) for i, item in enumerate(issued_items or [])]
    for what, decls in (('project_api_keys', project), ('issued_api_keys', issued)):
        seen = set()
        for decl in decls:
            if decl.name in seen:
                raise PlanError("%s declares the name '%s' twice; names must be unique." % (what, decl.name))
            seen.add(decl.name)
    seen = {}
    for decl in project + issued:
        if decl.vault_var in seen:
            raise PlanError("vault_var '%s' is used by both %s and %s." % (decl.vault_var, seen[decl.vault_var], decl.label))
        seen[decl.vault_var] = decl.label
    if talos_key and talos_key not in [d.name for d in project]:
        raise PlanError("talos_key '%s' does not name a key of project_api_keys." % talos_key)
    return project, issued


# ---------------------------------------------------------------- the plan


class Step:
    """What to do with one key: action, reason, the live key it acts on, and for update the changes."""

    def __init__(self, plane, name, action, reason, decl=None, live=None, changes=None, grace=False):
        self.plane = plane
        self.name = name
        self.action = action
        self.reason = reason
        self.decl = decl
        self.live = live
        self.changes = changes or {}
        # rotate/replace: the superseded key stays live as the previous key (its grace period) instead of being retired
        self.grace = grace

    @property
    def key_id(self):
        if not self.live:
            return None
        return self.live.get('id') if self.plane == 'project' else self.live.get('key_id')

    @property
    def vault_var(self):
        return self.decl.vault_var if self.decl is not None else ''

    def as_dict(self):
        return {'plane': self.plane, 'name': self.name, 'id': self.key_id, 'action': self.action, 'reason': self.reason,
                'vault_var': self.vault_var}

    def __repr__(self):
        return 'Step(%s %s %s: %s)' % (self.plane, self.name, self.action, self.reason)


def _id_field(plane):
    return 'id' if plane == 'project' else 'key_id'


def _id(plane, key):
    return key.get(_id_field(plane))


def _expiry(plane, key):
    return key.get('expires_at') if plane == 'project' else key.get('expire_time')


def _usable(plane, key, at):
    if plane == 'project':
        return not expiry_facts(key.get('expires_at'), at)[0]
    return effective_status(key, at) == ACTIVE


def is_marked(key, environment):
    metadata = key.get('metadata') or {}
    return metadata.get('managed_by') == MANAGED_BY and metadata.get('environment') == environment


def _days(plane, key, at):
    left = expiry_facts(_expiry(plane, key), at)[1]
    return 'never' if left is None else '%d days' % left


def _kept_key_action(decl, key, at):
    """(action, reason, changes) for the live key whose secret is stored."""
    plane = decl.plane
    expiry = _expiry(plane, key)
    if plane == 'issued':
        immutable = decl.desired.immutable_changes(key)
        if immutable:
            return 'replace', '%s changed; it cannot be changed in place' % ' and '.join(immutable), {}
    if decl.rotate_before is not None and expires_within(expiry, decl.rotate_before, at):
        return 'replace', 'expires in %s, within rotate_before %s' % (_days(plane, key, at), decl.rotate_before_text), {}
    if plane == 'project':
        live_expiry = normalize_time(expiry, 'expires_at') if expiry else None
        if decl.expires_at and live_expiry != decl.expires_at:
            return 'replace', 'expires_at changed from %s to %s' % (live_expiry or 'never', decl.expires_at), {}
        return 'none', 'up to date', {}
    changes = decl.desired.mutable_changes(key, rename=False)
    if changes:
        return 'update', '%s changed' % ', '.join(p if p != 'ip_restriction' else 'ip_allowlist' for p in sorted(changes)), changes
    return 'none', 'up to date', {}


def lost_secret_reason(live_id, stored_id, why='the vault file holds no secret for this key'):
    """The reason a live key counts as having lost its secret, or None when the vault file holds its secret."""
    if stored_id and stored_id == live_id:
        return None
    if stored_id:
        return 'lost secret: the vault file holds the secret of key %s, not of %s' % (stored_id, live_id)
    return 'lost secret: %s' % why


def lost_secret_action(plane, on_missing_secret, replace=False):
    """What a lost secret leads to: fail, or a new key - rotate (issued: a successor) or replace (project, or when due anyway)."""
    if on_missing_secret == 'fail':
        return 'fail'
    return 'rotate' if plane == 'issued' and not replace else 'replace'


def plan_key(decl, live, view, at, environment=None, on_missing_secret='rotate', server_at=None, retire_previous=False):
    """Steps for one declared key: its own step first, then a retire (or grace) step per other live key of its name.

    The vault file's ``previous`` key (superseded by an earlier replacement) gets ``grace`` while it waits and ``retire``
    once due (``previous_due`` on ``server_at``, Ory Network's clock). A replacement of a key whose secret is stored keeps
    the replaced key as the new previous key when the declaration asks for a grace period; a replacement for a lost
    secret never does (nobody holds that secret), and a replacement due while the previous key waits is deferred
    (``deferred_reason``): one previous key per variable, never retired before its trigger."""
    plane = decl.plane
    same = [k for k in live if k.get('name') == decl.full_name]
    usable = sorted((k for k in same if _usable(plane, k, at)), key=lambda k: str(_id(plane, k)))
    expired = [k for k in same if plane == 'project' and not _usable(plane, k, at)]
    if plane == 'issued':
        foreign = [k for k in usable if not is_marked(k, environment)]
        if foreign:
            return [Step(plane, decl.full_name, 'fail', decl=decl, live=foreign[0], reason=(
                'active keys with this name exist without the marker of this environment (%s); the engine does not take '
                'over keys it did not issue: revoke or rename them' % ', '.join(sorted(_id(plane, k) for k in foreign))))]
    stored_id, why = stored_key(view, decl.vault_var)
    retire = [Step(plane, decl.full_name, 'retire', 'expired', decl=decl, live=k) for k in expired]
    if not usable:
        reason = 'the key expired' if (expired or [k for k in same if plane == 'issued']) else 'new key'
        return [Step(plane, decl.full_name, 'create', reason, decl=decl)] + retire
    current = [k for k in usable if _id(plane, k) == stored_id]
    previous = ((view or {}).get(decl.vault_var) or {}).get('previous')
    if current:
        key = current[0]
        action, reason, changes = _kept_key_action(decl, key, at)
        waiting = None
        duplicates = leftovers_beside(usable, stored_id, _id_field(plane))
        for other in usable:
            if other is not key and previous and _id(plane, other) == previous['key_id']:
                due, why = previous_due(previous, server_at or at, retire_previous, key)
                waiting = None if due else other
                retire.append(Step(plane, decl.full_name, 'retire' if due else 'grace', why, decl=decl, live=other))
            elif other in duplicates:
                retire.append(Step(plane, decl.full_name, 'retire', 'a duplicate (left by an interrupted replacement); '
                                   'the vault file holds the secret of %s' % stored_id, decl=decl, live=other))
        if action == 'replace' and waiting is not None:
            action, reason = 'none', deferred_reason(reason, _id(plane, waiting))
        grace = action == 'replace' and grace_wanted(decl.retire_after, decl.retire_when_used)
        step = Step(plane, decl.full_name, action, reason, decl=decl, live=key, changes=changes, grace=grace)
        return [step] + retire
    ids = ', '.join(str(_id(plane, k)) for k in usable)
    if len(usable) > 1:
        lost = 'lost secret: %d live keys with this name (%s) and the vault file holds the secret of none of them' % (len(usable), ids)
    else:
        lost = lost_secret_reason(ids, stored_id, why)
    key = usable[0]
    action = lost_secret_action(plane, on_missing_secret, len(usable) > 1 or _kept_key_action(decl, key, at)[0] == 'replace')
    if action == 'fail':
        return [Step(plane, decl.full_name, 'fail', lost, decl=decl, live=key)]
    steps = [Step(plane, decl.full_name, action, lost, decl=decl, live=key)]
    for other in usable[1:]:
        steps.append(Step(plane, decl.full_name, 'retire', 'lost secret: replaced by the one new key', decl=decl, live=other))
    return steps + retire


def plan_plane(plane, decls, live, view, at, environment=None, prefix='', on_missing_secret='rotate', prune=False, server_at=None,
               retire_previous=False):
    """Steps for every declared key of one plane, then (with ``prune``) for this environment's undeclared keys.

    Prune touches only keys with this environment's marker: project keys named with ``prefix``, issued keys
    whose metadata names the environment (active ones; expired keys are left to expire).
    """
    steps = []
    by_name = {}
    for key in live:
        by_name.setdefault(key.get('name'), []).append(key)
    for decl in decls:
        steps.extend(plan_key(decl, by_name.get(decl.full_name, []), view, at, environment, on_missing_secret, server_at,
                              retire_previous))
    if prune:
        declared = set(d.full_name for d in decls)
        for key in sorted(live, key=lambda k: (str(k.get('name')), str(_id(plane, k)))):
            name = str(key.get('name') or '')
            if name in declared:
                continue
            if plane == 'project' and prefix and name.startswith(prefix):
                steps.append(Step(plane, name, 'prune', 'no longer declared', live=key))
            elif plane == 'issued' and is_marked(key, environment) and _usable(plane, key, at):
                steps.append(Step(plane, name, 'prune', 'no longer declared', live=key))
    return steps


def failures(steps):
    """The one-line descriptions of the steps that stop the run."""
    return ['%s API key %s: %s' % (s.plane, s.name, s.reason) for s in steps if s.action == 'fail']
