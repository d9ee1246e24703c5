# Request/response objects and JSON body helpers shared by the console, Talos and admin planes.
from __future__ import annotations

import json

from .errors import ApiError, bad_request


class Response:
    def __init__(self, status: int, body: bytes = b'', headers: dict | None = None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        if body and 'Content-Type' not in self.headers:
            self.headers['Content-Type'] = 'application/json'


def json_response(status: int, obj) -> Response:
    return Response(status, json.dumps(obj).encode())


def empty_response(status: int = 204) -> Response:
    return Response(status)


class Request:
    def __init__(self, method: str, path: str, query: dict, headers, body: bytes, client: str = ''):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.client = client
        self.params: dict = {}
        self.project: dict | None = None
        self.auth: tuple = (None, None)

    def bearer(self) -> str | None:
        value = self.headers.get('Authorization') or ''
        scheme, dummy, token = value.strip().partition(' ')
        if scheme.lower() != 'bearer' or not token.strip():
            return None
        return token.strip()

    def query_one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self, required: bool = False) -> dict:
        """The body as a JSON object; an empty body is {} unless required. Raises a 400 ApiError."""
        if not self.body.strip():
            if required:
                raise bad_request('the request body is required')
            return {}
        try:
            value = json.loads(self.body.decode('utf-8'), parse_constant=_reject_constant)
            json.dumps(value, ensure_ascii=False).encode('utf-8')  # lone surrogates ("\\ud800") are not valid text
        except (UnicodeError, ValueError, RecursionError) as exc:
            raise bad_request('the request body is not valid JSON: %s' % str(exc)[:200]) from exc
        if not isinstance(value, dict):
            raise bad_request('the request body must be a JSON object')
        return value


def _reject_constant(name):
    raise ValueError('%s is not valid JSON' % name)


def opt_str(body: dict, name: str, max_len: int | None = None) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request('invalid value for field "%s": expected a string' % name)
    if max_len is not None and len(value) > max_len:
        raise bad_request('%s must be at most %d characters' % (name, max_len))
    return value


def opt_str_list(body: dict, name: str) -> list | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request('invalid value for field "%s": expected a list of strings' % name)
    return list(value)


def opt_object(body: dict, name: str) -> dict | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request('invalid value for field "%s": expected a JSON object' % name)
    return value


def opt_enum(body: dict, name: str, values: tuple) -> str | None:
    """A protojson enum: its name, or its number (index into values)."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise bad_request('invalid value for enum field "%s"' % name)
    if isinstance(value, int):
        if 0 <= value < len(values):
            return values[value]
        raise bad_request('invalid value %d for enum field "%s"' % (value, name))
    if isinstance(value, str) and value in values:
        return value
    raise bad_request('invalid value %s for enum field "%s"; allowed: %s' % (json.dumps(value), name, ', '.join(values)))


__all__ = ['ApiError', 'Request', 'Response', 'json_response', 'empty_response', 'opt_str', 'opt_str_list', 'opt_object', 'opt_enum']
