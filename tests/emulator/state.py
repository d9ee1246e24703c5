# Emulator state: workspace, projects, console API keys, Talos issued keys; clock offset; JSON persistence.
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import secrets
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone

from .durations import DurationError, parse_duration
from .ratelimit import RateLimitConfigError, normalize as normalize_rate_limits

STATE_VERSION = 1
MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z
SLUG_RE = re.compile(r'^[a-z0-9][a-z0-9-]{0,62}$')
PREFIX_RE = re.compile(r'^[A-Za-z0-9_]{1,16}$')

DEFAULT_SETTINGS = {
    'default_ttl': 168 * 3600,
    'max_ttl': 17520 * 3600,
    'key_quota': 1000,
    'prefix': 'ory_ak',
    'public_prefix': 'ory_pk',
}
DEFAULT_PROJECT = {'slug': 'emulated-project', 'name': 'Emulated Project'}


class ConfigError(ValueError):
    pass


def rfc3339(ts) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_rfc3339(text) -> int:
    """Parse an RFC 3339 date-time with an offset; return whole unix seconds (truncated). Raises ValueError."""
    if not isinstance(text, str) or not re.fullmatch(r'\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})', text):
        raise ValueError('not an RFC 3339 date-time: %r' % (text,))
    norm = text.replace('z', 'Z').replace('t', 'T')
    frac = re.search(r'\.\d+', norm)
    if frac:
        norm = norm.replace(frac.group(0), '')
    value = int(datetime.fromisoformat(norm.replace('Z', '+00:00')).timestamp())
    if not 0 <= value <= MAX_TIMESTAMP:
        raise ValueError('date-time out of range: %r' % (text,))
    return value


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode('utf-8')).hexdigest()


def new_console_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(30)


def _duration_setting(value, name):
    if value is None or value == '':
        return None
    if isinstance(value, bool):
        raise ConfigError('%s: expected a duration string' % name)
    if isinstance(value, (int, float)):
        seconds = int(value)
    else:
        try:
            seconds = parse_duration(value)
        except DurationError as exc:
            raise ConfigError('%s: %s' % (name, exc)) from exc
        if seconds.denominator != 1:
            raise ConfigError('%s: fractional seconds are not supported' % name)
        seconds = int(seconds)
    if seconds <= 0:
        raise ConfigError('%s: must be greater than 0' % name)
    return seconds


def apply_settings(settings: dict, changes: dict) -> dict:
    """Validate and apply project knob changes; returns the new settings dict. Raises ConfigError."""
    out = dict(settings)
    for name, value in changes.items():
        if name in ('default_ttl', 'max_ttl'):
            out[name] = _duration_setting(value, name)
            if name == 'max_ttl' and out[name] is None:
                raise ConfigError('max_ttl cannot be unset')
        elif name == 'key_quota':
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError('key_quota: expected an integer >= 0')
            out[name] = value
        elif name in ('prefix', 'public_prefix'):
            if value in (None, '') and name == 'public_prefix':
                out[name] = None
                continue
            if not isinstance(value, str) or not PREFIX_RE.match(value):
                raise ConfigError('%s: expected 1-16 characters from [A-Za-z0-9_]' % name)
            out[name] = value
        elif name == 'rate_limits':
            try:
                out[name] = normalize_rate_limits(value)
            except RateLimitConfigError as exc:
                raise ConfigError(str(exc)) from exc
        else:
            raise ConfigError('unknown project setting %r' % name)
    return out


class State:
    """All emulator data in one JSON-able dict, guarded by one lock."""

    def __init__(self, path: str | None = None):
        self.path = path
        self.lock = threading.RLock()
        self.data: dict = {}
        self._cache: dict = {}

    # ----- clock -----
    def now(self) -> int:
        return int(time.time()) + int(self.data.get('clock_offset', 0))

    # ----- persistence -----
    def load_or_seed(self, config: dict | None) -> bool:
        """Load the state file when it exists, else seed from config. Returns True when loaded."""
        if self.path and os.path.exists(self.path) and os.path.getsize(self.path) > 0:
            with open(self.path, encoding='utf-8') as handle:
                data = json.load(handle)
            if not isinstance(data, dict) or data.get('version') != STATE_VERSION:
                raise ConfigError('%s: not an emulator state file (version %s)' % (self.path, STATE_VERSION))
            self.data = data
            self._cache = {}
            return True
        self.data = seed(config or {}, int(time.time()))
        self.save()
        return False

    def save(self):
        """Write the state file atomically (temp file + os.replace). Call after every change, holding no other lock."""
        if not self.path:
            return
        with self.lock:
            payload = self._serialize()
            directory = os.path.dirname(os.path.abspath(self.path))
            fd, tmp = tempfile.mkstemp(prefix='.emulator-state-', dir=directory)
            try:
                with os.fdopen(fd, 'w', encoding='utf-8') as handle:
                    handle.write(payload)
                os.replace(tmp, self.path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise

    def dirty(self, key_id: str):
        """Forget the cached JSON of an issued key whose record was changed in place."""
        self._cache.pop(key_id, None)

    def _serialize(self) -> str:
        # Issued keys dominate the state; their JSON is cached per key so a write costs little more than the file I/O.
        parts = []
        for name, value in self.data.items():
            if name != 'issued':
                parts.append('%s:%s' % (json.dumps(name), json.dumps(value, separators=(',', ':'))))
                continue
            projects = []
            for project_id, keys in value.items():
                items = []
                for key_id, rec in keys.items():
                    text = self._cache.get(key_id)
                    if text is None:
                        text = self._cache[key_id] = '%s:%s' % (json.dumps(key_id), json.dumps(rec, separators=(',', ':')))
                    items.append(text)
                projects.append('%s:{%s}' % (json.dumps(project_id), ','.join(items)))
            parts.append('"issued":{%s}' % ','.join(projects))
        return '{%s}' % ','.join(parts)

    # ----- lookups -----
    @property
    def workspace(self) -> dict:
        return self.data['workspace']

    def projects(self) -> list:
        return self.data['projects']

    def project(self, ref: str) -> dict | None:
        """Find a project by ID or slug."""
        for proj in self.data['projects']:
            if ref in (proj['id'], proj['slug']):
                return proj
        return None

    def workspace_matches(self, ref: str) -> bool:
        wsp = self.data['workspace']
        return ref in (wsp['id'], wsp.get('slug'))

    def console_key(self, token: str):
        """Classify a bearer token: ('workspace', key), ('project', key) or (None, None). Expired keys do not match."""
        digest = hash_secret(token)
        with self.lock:
            now = self.now()
            for kind in ('workspace', 'project'):
                for key in self.data[kind + '_keys']:
                    if key['value_hash'] == digest:
                        return (kind, key) if not _expired(key, now) else (None, None)
        return (None, None)

    def issued(self, project_id: str) -> dict:
        return self.data['issued'].setdefault(project_id, {})

    def request_ids(self, project_id: str) -> dict:
        return self.data['request_ids'].setdefault(project_id, {})

    def imported(self, project_id: str) -> dict:
        """Imported keys of a project by key_id (state files written before imported keys existed have none)."""
        return self.data.setdefault('imported', {}).setdefault(project_id, {})

    def imported_request_ids(self, project_id: str) -> dict:
        return self.data.setdefault('imported_request_ids', {}).setdefault(project_id, {})

    def snapshot(self) -> dict:
        with self.lock:
            return copy.deepcopy(self.data)


def _expired(key: dict, now: int) -> bool:
    return key.get('expires_at') is not None and key['expires_at'] <= now


def console_key_record(name, owner_id, value, now, expires_at=None, project_id=None, workspace_id=None):
    rec = {
        'id': str(uuid.uuid4()),
        'name': name,
        'owner_id': owner_id,
        'created_at': now,
        'updated_at': now,
        'expires_at': expires_at,
        'last_characters': value[-4:],
        'value_hash': hash_secret(value),
    }
    if project_id:
        rec['project_id'] = project_id
    if workspace_id:
        rec['workspace_id'] = workspace_id
    return rec


def _str_field(src: dict, name: str, default=None, where=''):
    value = src.get(name, default)
    if value is not None and not isinstance(value, str):
        raise ConfigError('%s%s: expected a string' % (where, name))
    return value


def seed(config: dict, now: int) -> dict:
    """Build a fresh state from a config dict (see README)."""
    if not isinstance(config, dict):
        raise ConfigError('config: expected a mapping')
    wcfg = config.get('workspace') or {}
    if not isinstance(wcfg, dict):
        raise ConfigError('workspace: expected a mapping')
    owner_id = str(uuid.uuid4())
    workspace_id = _str_field(wcfg, 'id', where='workspace.') or str(uuid.uuid4())
    _check_uuid(workspace_id, 'workspace.id')
    wname = _str_field(wcfg, 'name', 'Emulated Workspace', 'workspace.')
    wkey = _str_field(wcfg, 'api_key', where='workspace.') or new_console_secret('ory_wak_')
    data = {
        'version': STATE_VERSION,
        'clock_offset': 0,
        'workspace': {'id': workspace_id, 'name': wname, 'slug': re.sub(r'[^a-z0-9]+', '-', wname.lower()).strip('-'),
                      'owner_id': owner_id, 'created_at': now, 'seed_api_key': wkey},
        'workspace_keys': [console_key_record('emulator-seed', owner_id, wkey, now, _time_field(wcfg, 'api_key_expires_at', 'workspace.'),
                                              workspace_id=workspace_id)],
        'projects': [],
        'project_keys': [],
        'issued': {},
        'request_ids': {},
    }
    pcfgs = config.get('projects')
    if pcfgs is None:
        pcfgs = [DEFAULT_PROJECT]
    if not isinstance(pcfgs, list) or not pcfgs:
        raise ConfigError('projects: expected a non-empty list')
    seen = set()
    for index, pcfg in enumerate(pcfgs):
        where = 'projects[%d].' % index
        if not isinstance(pcfg, dict):
            raise ConfigError('%s: expected a mapping' % where[:-1])
        slug = _str_field(pcfg, 'slug', where=where)
        if not slug or not SLUG_RE.match(slug):
            raise ConfigError('%sslug: required, lower-case letters, digits and dashes' % where)
        pid = _str_field(pcfg, 'id', where=where) or str(uuid.uuid4())
        _check_uuid(pid, where + 'id')
        if slug in seen or pid in seen:
            raise ConfigError('%s: duplicate project id or slug' % where[:-1])
        seen.update((slug, pid))
        knobs = {k: pcfg[k] for k in ('default_ttl', 'max_ttl', 'key_quota', 'prefix', 'public_prefix', 'rate_limits') if k in pcfg}
        settings = apply_settings(DEFAULT_SETTINGS, knobs)
        pkey = _str_field(pcfg, 'api_key', where=where) or new_console_secret('ory_pat_')
        data['projects'].append({
            'id': pid,
            'slug': slug,
            'name': _str_field(pcfg, 'name', where=where) or slug,
            'created_at': now,
            'settings': settings,
            'hmac_secret': _str_field(pcfg, 'hmac_secret', where=where) or secrets.token_hex(32),
            'seed_api_key': pkey,
        })
        data['project_keys'].append(console_key_record('emulator-seed', owner_id, pkey, now, project_id=pid))
    return data


def _time_field(src: dict, name: str, where: str):
    value = src.get(name)
    if value is None:
        return None
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise ConfigError('%s%s: expected an RFC 3339 date-time' % (where, name)) from exc


def _check_uuid(value, name):
    try:
        uuid.UUID(value)
    except ValueError as exc:
        raise ConfigError('%s: expected a UUID' % name) from exc


def load_config(path: str) -> dict:
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    try:
        return json.loads(text) if text.strip() else {}
    except ValueError:
        pass
    try:
        import yaml  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise ConfigError('%s is not JSON and PyYAML is not installed' % path) from exc
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError('%s: %s' % (path, exc)) from exc
