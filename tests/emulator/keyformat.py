# Talos v1 issued-key secrets: <prefix>_v1_<base58("<unix_seconds>:<uuid4>")>_<base58(HMAC-SHA256(hmac secret, "<prefix>_v1_<identifier>_"))>.
from __future__ import annotations

import hashlib
import hmac
import re
import uuid

from .base58 import b58decode, b58encode

_B58 = '1-9A-HJ-NP-Za-km-z'
V1_RE = re.compile(r'^([A-Za-z0-9_]{1,16})_v1_([%s]+)_([%s]+)$' % (_B58, _B58))
IDENT_RE = re.compile(r'^(\d{1,12}):([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$')


class InvalidFormat(ValueError):
    """The credential claims the v1 shape but does not parse."""


def checksum(hmac_secret: str, body: str) -> str:
    return b58encode(hmac.new(hmac_secret.encode('utf-8'), body.encode('utf-8'), hashlib.sha256).digest())


def new_secret(prefix: str, hmac_secret: str, now: int) -> tuple:
    """Return (key_id, secret)."""
    key_id = str(uuid.uuid4())
    ident = b58encode(('%d:%s' % (now, key_id)).encode('ascii'))
    body = '%s_v1_%s_' % (prefix, ident)
    return key_id, body + checksum(hmac_secret, body)


def imported_key_id(network_id: str, raw_key: str) -> str:
    """The key_id of an imported key: lowercase hex SHA-512/256 of network id + NUL + raw key (contract 4.1)."""
    return hashlib.new('sha512_256', network_id.encode('utf-8') + b'\x00' + raw_key.encode('utf-8')).hexdigest()


def looks_like_macaroon(credential: str, prefix: str = 'mc') -> bool:
    return credential.startswith(prefix + '_v1_')


def looks_like_jwt(credential: str) -> bool:
    return credential.startswith('eyJ') and credential.count('.') == 2


def parse_v1(credential: str):
    """Return (prefix, identifier, checksum, unix_seconds, key_id), None when the credential is not v1-shaped.

    Raises InvalidFormat when it contains "_v1_" but is malformed or the identifier does not decode.
    """
    if '_v1_' not in credential:
        return None
    match = V1_RE.match(credential)
    if not match:
        raise InvalidFormat('malformed v1 API key')
    prefix, ident, check = match.groups()
    try:
        decoded = b58decode(ident).decode('ascii')
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidFormat('the key identifier does not decode') from exc
    parts = IDENT_RE.match(decoded)
    if not parts:
        raise InvalidFormat('the key identifier does not decode')
    return prefix, ident, check, int(parts.group(1)), parts.group(2)


def checksum_ok(hmac_secret: str, prefix: str, ident: str, check: str) -> bool:
    expected = checksum(hmac_secret, '%s_v1_%s_' % (prefix, ident))
    return hmac.compare_digest(expected.encode('ascii'), check.encode('ascii'))
