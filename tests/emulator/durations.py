# Duration parsing and formatting: protobuf "3600s", Go "1h30m", and Talos' extended units d, w, mo (30d), y (365d).
from __future__ import annotations

import re
from fractions import Fraction

UNITS = {
    'ns': Fraction(1, 10 ** 9),
    'us': Fraction(1, 10 ** 6),
    '\u00b5s': Fraction(1, 10 ** 6),
    '\u03bcs': Fraction(1, 10 ** 6),
    'ms': Fraction(1, 1000),
    's': Fraction(1),
    'm': Fraction(60),
    'h': Fraction(3600),
    'd': Fraction(86400),
    'w': Fraction(7 * 86400),
    'mo': Fraction(30 * 86400),
    'y': Fraction(365 * 86400),
}
# Longer unit names first so that "mo" and "ms" win over "m".
_PART = re.compile('(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|\u00b5s|\u03bcs|ms|mo|s|m|h|d|w|y)')


class DurationError(ValueError):
    pass


def parse_duration(text) -> Fraction:
    """Parse a duration string into seconds (a Fraction, may be negative). Raises DurationError."""
    if not isinstance(text, str):
        raise DurationError('duration must be a string')
    raw = text.strip()
    if not raw:
        raise DurationError('empty duration')
    sign = 1
    if raw[0] in '+-':
        sign = -1 if raw[0] == '-' else 1
        raw = raw[1:]
    if raw == '0':
        return Fraction(0)
    pos = 0
    total = Fraction(0)
    while pos < len(raw):
        match = _PART.match(raw, pos)
        if not match:
            raise DurationError('invalid duration %r' % text)
        total += Fraction(match.group(1)) * UNITS[match.group(2)]
        pos = match.end()
    if pos == 0:
        raise DurationError('invalid duration %r' % text)
    return sign * total


def parse_proto_duration(text) -> Fraction:
    """Parse a protobuf JSON Duration ("60s", "1.5s")."""
    if not isinstance(text, str) or not re.fullmatch(r'-?\d+(\.\d{1,9})?s', text):
        raise DurationError('invalid duration %r: expected seconds with an "s" suffix, e.g. "60s"' % (text,))
    return Fraction(text[:-1])


def format_go(seconds) -> str:
    """Format seconds like Go's time.Duration.String(): 17520h0m0s, 1m30s, 500ms, 0s."""
    value = Fraction(seconds)
    if value == 0:
        return '0s'
    sign = '-' if value < 0 else ''
    value = abs(value)
    if value < 1:
        for unit, scale in (('ms', 1000), ('\u00b5s', 10 ** 6), ('ns', 10 ** 9)):
            scaled = value * scale
            if scaled >= 1:
                return sign + _trim(scaled) + unit
        return sign + _trim(value * 10 ** 9) + 'ns'
    hours, rest = divmod(value, 3600)
    minutes, secs = divmod(rest, 60)
    out = sign
    if hours:
        out += '%dh' % hours
    if hours or minutes:
        out += '%dm' % minutes
    return out + _trim(secs) + 's'


def format_proto(seconds) -> str:
    """Format seconds as a protobuf JSON Duration ("3600s")."""
    return _trim(Fraction(seconds)) + 's'


def _trim(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    text = '%.9f' % float(value)
    return text.rstrip('0').rstrip('.')
