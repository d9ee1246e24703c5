# Admin API under /__emulator: health, request statistics, fault injection, project knobs, clock. No auth; not counted.
from __future__ import annotations

import itertools
import threading
from fractions import Fraction

from .durations import DurationError, format_go, parse_duration
from .errors import ApiError
from .state import ConfigError, apply_settings, rfc3339
from .web import Request, json_response

FAULT_KINDS = ('rate_limit', 'status', 'reset', 'slow', 'drop_after_commit')
FAULT_STATUSES = (500, 502, 503, 504)
MAX_DELAY = 120
MAX_OFFSET = 100 * 365 * 86400


def _bad(message):
    return ApiError(400, message)


def _number(spec, name, default, minimum, maximum=None, integer=False):
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise _bad('%s: expected a%s number' % (name, 'n integer' if integer else ''))
    if value < minimum or (maximum is not None and value > maximum):
        raise _bad('%s: must be between %s and %s' % (name, minimum, maximum if maximum is not None else 'infinity'))
    return value


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.total = 0
        self.requests: dict = {}
        self.limited: dict = {}

    def count(self, key: str):
        with self.lock:
            self.total += 1
            self.requests[key] = self.requests.get(key, 0) + 1

    def throttled(self, key: str):
        """Count a request the rate limiter answered with 429 (it is also counted in requests)."""
        with self.lock:
            self.limited[key] = self.limited.get(key, 0) + 1

    def snapshot(self) -> dict:
        with self.lock:
            snap = {'total': self.total, 'requests': dict(sorted(self.requests.items()))}
            if self.limited:
                snap['throttled'] = dict(sorted(self.limited.items()))
            return snap

    def reset(self):
        with self.lock:
            self.total = 0
            self.requests = {}
            self.limited = {}


class Faults:
    """Fault rules; the first active rule matching a request's method and endpoint template is consumed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules: list = []
        self._ids = itertools.count(1)

    @staticmethod
    def validate(spec) -> dict:
        if not isinstance(spec, dict):
            raise _bad('a fault must be a JSON object')
        kind = spec.get('fault')
        if kind not in FAULT_KINDS:
            raise _bad('fault: expected one of %s' % ', '.join(FAULT_KINDS))
        rule = {'fault': kind, 'times': _number(spec, 'times', 1, 1, integer=True)}
        method = spec.get('method')
        endpoint = spec.get('endpoint')
        if isinstance(endpoint, str) and ' ' in endpoint.strip() and method is None:
            method, endpoint = endpoint.strip().split(' ', 1)
        for name, value in (('method', method), ('endpoint', endpoint)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise _bad('%s: expected a non-empty string' % name)
        rule['method'] = method.strip().upper() if method else None
        rule['endpoint'] = endpoint.strip() if endpoint else None
        if kind == 'rate_limit':
            rule['reset'] = _number(spec, 'reset', 1, 0, integer=True)
            rule['limit'] = _number(spec, 'limit', 10, 0, integer=True)
        elif kind == 'status':
            rule['status'] = spec.get('status', 503)
            if rule['status'] not in FAULT_STATUSES:
                raise _bad('status: expected one of %s' % ', '.join(str(code) for code in FAULT_STATUSES))
        elif kind == 'slow':
            rule['delay'] = _number(spec, 'delay', 1, 0, MAX_DELAY)
        return rule

    def add(self, spec) -> dict:
        rule = self.validate(spec)
        with self.lock:
            rule['id'] = str(next(self._ids))
            self.rules.append(rule)
            return dict(rule)

    def take(self, method: str, endpoint: str | None):
        with self.lock:
            for rule in self.rules:
                if rule['method'] and rule['method'] != method:
                    continue
                if rule['endpoint'] and rule['endpoint'] != endpoint:
                    continue
                rule['times'] -= 1
                if rule['times'] <= 0:
                    self.rules.remove(rule)
                return dict(rule)
        return None

    def list(self) -> list:
        with self.lock:
            return [dict(rule) for rule in self.rules]

    def remove(self, rule_id: str) -> bool:
        with self.lock:
            for rule in self.rules:
                if rule['id'] == rule_id:
                    self.rules.remove(rule)
                    return True
        return False

    def clear(self):
        with self.lock:
            self.rules = []


ROUTES = (
    ('GET', '/health', 'health'),
    ('GET', '/info', 'info'),
    ('GET', '/stats', 'get_stats'),
    ('DELETE', '/stats', 'reset_stats'),
    ('GET', '/faults', 'list_faults'),
    ('POST', '/faults', 'add_fault'),
    ('DELETE', '/faults', 'clear_faults'),
    ('DELETE', '/faults/{fault_id}', 'remove_fault'),
    ('GET', '/projects', 'list_projects'),
    ('GET', '/projects/{slug}', 'get_project'),
    ('PATCH', '/projects/{slug}', 'patch_project'),
    ('GET', '/clock', 'get_clock'),
    ('POST', '/clock', 'set_clock'),
)


class AdminApi:
    def __init__(self, emulator):
        self.emulator = emulator
        self.state = emulator.state

    def health(self, req: Request):
        del req
        return json_response(200, {'status': 'ok'})

    def info(self, req: Request):
        del req
        return json_response(200, self.emulator.info())

    def get_stats(self, req: Request):
        del req
        return json_response(200, self.emulator.stats.snapshot())

    def reset_stats(self, req: Request):
        del req
        self.emulator.stats.reset()
        return json_response(200, self.emulator.stats.snapshot())

    def list_faults(self, req: Request):
        del req
        return json_response(200, {'faults': self.emulator.faults.list()})

    def add_fault(self, req: Request):
        rule = self.emulator.faults.add(req.json(required=True))
        return json_response(201, rule)

    def clear_faults(self, req: Request):
        del req
        self.emulator.faults.clear()
        return json_response(200, {'faults': []})

    def remove_fault(self, req: Request):
        if not self.emulator.faults.remove(req.params['fault_id']):
            raise ApiError(404, 'no such fault rule')
        return json_response(200, {'faults': self.emulator.faults.list()})

    def project_json(self, proj: dict) -> dict:
        settings = proj['settings']
        return {
            'id': proj['id'],
            'slug': proj['slug'],
            'name': proj['name'],
            'project_url': self.emulator.project_url(proj),
            'default_ttl': format_go(settings['default_ttl']) if settings.get('default_ttl') else None,
            'max_ttl': format_go(settings['max_ttl']),
            'key_quota': settings['key_quota'],
            'prefix': settings['prefix'],
            'public_prefix': settings.get('public_prefix'),
            'rate_limits': settings.get('rate_limits'),
        }

    def _project(self, req: Request) -> dict:
        proj = self.state.project(req.params['slug'])
        if proj is None:
            raise ApiError(404, 'no such project: %s' % req.params['slug'])
        return proj

    def list_projects(self, req: Request):
        del req
        with self.state.lock:
            return json_response(200, [self.project_json(proj) for proj in self.state.projects()])

    def get_project(self, req: Request):
        with self.state.lock:
            return json_response(200, self.project_json(self._project(req)))

    def patch_project(self, req: Request):
        body = req.json(required=True)
        with self.state.lock:
            proj = self._project(req)
            try:
                proj['settings'] = apply_settings(proj['settings'], body)
            except ConfigError as exc:
                raise _bad(str(exc)) from exc
            self.state.save()
            return json_response(200, self.project_json(proj))

    def clock_json(self) -> dict:
        return {'now': rfc3339(self.state.now()), 'offset_seconds': int(self.state.data.get('clock_offset', 0))}

    def get_clock(self, req: Request):
        del req
        with self.state.lock:
            return json_response(200, self.clock_json())

    def set_clock(self, req: Request):
        body = req.json(required=True)
        with self.state.lock:
            offset = int(self.state.data.get('clock_offset', 0))
            if 'offset_seconds' in body:
                value = body['offset_seconds']
                if isinstance(value, bool) or not isinstance(value, int):
                    raise _bad('offset_seconds: expected an integer')
                offset = value
            if 'advance' in body:
                value = body['advance']
                if isinstance(value, bool) or not isinstance(value, (int, str)):
                    raise _bad('advance: expected a duration string such as "30d" or a number of seconds')
                try:
                    seconds = Fraction(value) if isinstance(value, int) else parse_duration(value)
                except DurationError as exc:
                    raise _bad('advance: %s' % exc) from exc
                offset += int(seconds)
            if 'offset_seconds' not in body and 'advance' not in body:
                raise _bad('expected "advance" or "offset_seconds"')
            if abs(offset) > MAX_OFFSET:
                raise _bad('the clock offset must stay within 100 years')
            self.state.data['clock_offset'] = offset
            self.state.save()
            return json_response(200, self.clock_json())
