# Error type shared by both planes and the two wire envelopes: herodot (console, Ory edge) and AIP-193 (Talos).
from __future__ import annotations

import json
import uuid
from http import HTTPStatus

TALOS_DOMAIN = 'www.ory.com/talos'

# herodot's default error IDs and messages per HTTP status.
HERODOT_DEFAULTS = {
    400: ('bad_request', 'The request was malformed or contained invalid parameters'),
    401: ('unauthorized', 'The request could not be authorized'),
    402: ('payment_required', 'Payment is required to perform this action'),
    403: ('forbidden', 'The requested action was forbidden'),
    404: ('not_found', 'The requested resource could not be found'),
    405: ('method_not_allowed', 'The requested method is not allowed for this resource'),
    409: ('conflict', 'The resource could not be created due to a conflict'),
    413: ('request_entity_too_large', 'The request body is too large'),
    429: ('too_many_requests', 'Too many requests'),
    431: ('request_header_fields_too_large', 'The request headers are too large'),
    500: ('internal_server_error', 'An internal server error occurred, please contact the system administrator'),
    501: ('not_implemented', 'This feature is not implemented'),
    502: ('bad_gateway', 'The upstream service returned an invalid response'),
    503: ('service_unavailable', 'The service is temporarily unavailable'),
    504: ('gateway_timeout', 'The upstream service did not answer in time'),
}

# Canonical gRPC code names used by Talos' AIP writer when an error carries no explicit gRPC code.
GRPC_BY_HTTP = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    402: 'PERMISSION_DENIED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    405: 'UNIMPLEMENTED',
    409: 'ALREADY_EXISTS',
    413: 'INVALID_ARGUMENT',
    429: 'RESOURCE_EXHAUSTED',
    499: 'CANCELLED',
    500: 'INTERNAL',
    501: 'UNIMPLEMENTED',
    502: 'UNAVAILABLE',
    503: 'UNAVAILABLE',
    504: 'DEADLINE_EXCEEDED',
}


def status_text(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return 'Error'


class ApiError(Exception):
    """An error answer. `message` is the specific text (herodot "reason", AIP "message").

    error_id: herodot ID / Talos errdef ID (for example api_key_not_found); defaults by HTTP status.
    grpc_status: the AIP "status" name; defaults by HTTP status.
    edge: on the Talos plane, render in the herodot envelope (errors from the Ory edge, e.g. auth).
    """

    def __init__(self, code: int, message: str = '', error_id: str | None = None, grpc_status: str | None = None,
                 metadata: dict | None = None, edge: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.error_id = error_id
        self.grpc_status = grpc_status
        self.metadata = metadata or {}
        self.edge = edge

    def herodot_body(self) -> dict:
        default_id, default_message = HERODOT_DEFAULTS.get(self.code, ('error', status_text(self.code)))
        body = {
            'id': self.error_id or default_id,
            'code': self.code,
            'status': status_text(self.code),
            'reason': self.message or default_message,
            'message': default_message,
            'request': str(uuid.uuid4()),
        }
        if self.metadata:
            body['details'] = dict(self.metadata)
        return {'error': body}

    def aip_body(self) -> dict:
        default_id = HERODOT_DEFAULTS.get(self.code, ('unspecified_error', ''))[0]
        reason = ''.join(c if c.isalnum() else '_' for c in (self.error_id or default_id)).upper() or 'UNSPECIFIED_ERROR'
        info = {'@type': 'type.googleapis.com/google.rpc.ErrorInfo', 'reason': reason, 'domain': TALOS_DOMAIN}
        meta = {k: v for k, v in self.metadata.items() if isinstance(v, str)}
        if meta:
            info['metadata'] = meta
        return {'error': {
            'code': self.code,
            'message': self.message or status_text(self.code),
            'status': self.grpc_status or GRPC_BY_HTTP.get(self.code, 'UNKNOWN'),
            'details': [info],
        }}

    def render(self, plane: str) -> bytes:
        if plane == 'talos' and not self.edge:
            body = self.aip_body()
        elif plane == 'admin':
            body = {'error': {'code': self.code, 'message': self.message or status_text(self.code)}}
        else:
            body = self.herodot_body()
        return json.dumps(body).encode()


def bad_request(message: str, error_id: str = 'bad_request', **kwargs) -> ApiError:
    return ApiError(400, message, error_id, 'INVALID_ARGUMENT', **kwargs)


def not_found(message: str = 'API key not found', error_id: str = 'api_key_not_found', **kwargs) -> ApiError:
    return ApiError(404, message, error_id, 'NOT_FOUND', **kwargs)
