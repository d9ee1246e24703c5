# Base58 (Bitcoin alphabet) encoding, as used in Talos v1 API key secrets.
from __future__ import annotations

ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
_INDEX = {char: pos for pos, char in enumerate(ALPHABET)}


def b58encode(data: bytes) -> str:
    """Encode bytes to a Base58 string; leading zero bytes become '1'."""
    zeros = len(data) - len(data.lstrip(b'\0'))
    number = int.from_bytes(data, 'big')
    out = []
    while number:
        number, rem = divmod(number, 58)
        out.append(ALPHABET[rem])
    return '1' * zeros + ''.join(reversed(out))


def b58decode(text: str) -> bytes:
    """Decode a Base58 string; raises ValueError on characters outside the alphabet."""
    number = 0
    for char in text:
        pos = _INDEX.get(char)
        if pos is None:
            raise ValueError('invalid base58 character %r' % char)
        number = number * 58 + pos
    zeros = len(text) - len(text.lstrip('1'))
    body = number.to_bytes((number.bit_length() + 7) // 8, 'big') if number else b''
    return b'\0' * zeros + body


def is_b58(text: str) -> bool:
    return bool(text) and all(char in _INDEX for char in text)
