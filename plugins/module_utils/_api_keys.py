# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource logic shared by the modules: time and duration handling, matching keys by name, running a module."""

from __future__ import annotations

import datetime
import re

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.ory.network.plugins.module_utils._client import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, OryApiError, redact
from ansible_collections.ory.network.plugins.module_utils._options import Connection, OptionError, previous_key, secret_sink, stored_key_id
from ansible_collections.ory.network.plugins.module_utils._pacing import process_summary, reset_process_totals

UTC = datetime.timezone.utc

# Duration units, as Ory Talos accepts them (mo = 30 days, y = 365 days).
_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 7 * 86400, 'mo': 30 * 86400, 'y': 365 * 86400}
_DURATION_RE = re.compile(r'(\d+(?:\.\d+)?)(mo|ms|y|w|d|h|m|s)')
# The longest duration accepted (100 years): longer ones overflow date arithmetic and are always a mistake.
MAX_DURATION = 100 * 365 * 86400
# The longest name accepted (the API publishes no limit; longer names are refused before any request).
NAME_MAX = 255


class UsageError(Exception):
    """A problem the user must resolve (ambiguous match, refused change). The message is one sentence."""


def now():
    return datetime.datetime.now(UTC).replace(microsecond=0)


def parse_duration(value, option='duration'):
    """Parse '90d', '1w', '24h', '1h30m', '3600s', '1mo', '1y6mo' (or a number of seconds) into seconds."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip().lower()
    if text.isdigit():
        return int(text)
    pos = 0
    total = 0.0
    for match in _DURATION_RE.finditer(text):
        if match.start() != pos:
            break
        pos = match.end()
        if match.group(2) == 'ms':
            total += float(match.group(1)) / 1000
        else:
            total += float(match.group(1)) * _UNITS[match.group(2)]
    if pos != len(text) or not text:
        raise OptionError("%s must be a duration such as 90d, 12h, 1w or 3600s, not '%s'." % (option, value))
    if total > MAX_DURATION:
        raise OptionError("%s must be at most 100y, not '%s'." % (option, value))
    return int(total)


def check_name(value, option='name'):
    """A name given by the user: not empty, at most NAME_MAX characters, no control characters. None stays None."""
    if value is None:
        return None
    text = str(value)
    if not text.strip():
        raise OptionError('%s must not be empty.' % option)
    if len(text) > NAME_MAX:
        raise OptionError('%s must be at most %d characters long, not %d.' % (option, NAME_MAX, len(text)))
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in text):
        raise OptionError('%s must not contain control characters (such as a newline or a tab).' % option)
    return text


def check_identifier(value, option):
    """A key id given by the user: not empty. None stays None."""
    if value is not None and not str(value).strip():
        raise OptionError('%s must not be empty: give the id of a key, or leave %s out.' % (option, option))
    return value


def parse_time(value, option='time', require_offset=False):
    """Parse an RFC 3339 timestamp into an aware UTC datetime truncated to whole seconds (None stays None).

    With ``require_offset`` (values a user gives), a time without Z or an offset is refused instead of taken as UTC."""
    if value in (None, ''):
        return None
    if isinstance(value, datetime.datetime):
        stamp = value
    else:
        text = str(value).strip()
        if text.endswith(('Z', 'z')):
            text = text[:-1] + '+00:00'
        # Python 3.11 fromisoformat accepts fractions and offsets
        try:
            stamp = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise OptionError("%s must be an RFC 3339 timestamp such as 2027-01-01T00:00:00Z, not '%s'." % (option, value)) from None
    if stamp.tzinfo is None:
        if require_offset:
            raise OptionError("%s must end with Z or an offset such as +02:00, so that the time is not guessed, not '%s'."
                              % (option, value))
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).replace(microsecond=0)


def format_time(stamp):
    """Whole-second UTC RFC 3339 with a Z suffix, or None."""
    if stamp is None:
        return None
    return stamp.astimezone(UTC).replace(microsecond=0).strftime('%Y-%m-%dT%H:%M:%SZ')


def normalize_time(value, option='time', require_offset=False):
    return format_time(parse_time(value, option, require_offset))


def expiry_facts(expires, at=None):
    """Return (expired, days_to_expiry) for an expiry timestamp string (None: never expires)."""
    stamp = parse_time(expires)
    if stamp is None:
        return False, None
    current = at or now()
    remaining = (stamp - current).total_seconds()
    return remaining <= 0, int(remaining // 86400)


def expires_within(expires, seconds, at=None):
    """True when the key expires within ``seconds`` from now (or has expired)."""
    stamp = parse_time(expires)
    if stamp is None or seconds is None:
        return False
    current = at or now()
    return (stamp - current).total_seconds() <= seconds


def match_one(candidates, what, id_field):
    """Return the one candidate, None for none, and fail naming the ids when there are several."""
    if not candidates:
        return None
    if len(candidates) > 1:
        ids = ', '.join(sorted(str(c.get(id_field)) for c in candidates))
        raise UsageError('%s matches %d live keys (%s); names are not unique in Ory Network, so give the id of the one to manage.' % (
            what, len(candidates), ids))
    return candidates[0]


def leftovers_beside(candidates, stored_id, id_field):
    """The keys an interrupted replacement left live: when ``candidates`` (the live keys of one name) hold the key whose
    secret is stored (``stored_id``), every other one; else [].

    A replacement issues the new key, stores its secret, then retires the old key. Stopped after the store, it leaves the
    old key live (older than the stored one); stopped before the store (a kill, a lost connection), it leaves a new key
    whose secret nobody holds (newer than the stored one). Either way the stored key is the one to keep. The engine's
    planner and the key modules both decide with this function."""
    if not stored_id or len(candidates) < 2:
        return []
    stored = [k for k in candidates if str(k.get(id_field)) == stored_id]
    if len(stored) != 1:
        return []
    return [k for k in candidates if k is not stored[0]]


def run_module(module, run):
    """Call ``run(module, connection)`` and turn every expected failure into one fail_json sentence."""
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=str(REQUESTS_IMPORT_ERROR))
    if 'reveal_secret' in module.argument_spec:
        module.params['secret_sink'] = secret_sink()
        module.params['stored_key_id'] = stored_key_id()
        module.params['previous_key'] = previous_key() if module.params['stored_key_id'] is not None else None
    reset_process_totals()
    try:
        result = run(module, Connection(module.params, getattr(module, 'given', None)))
    except (OptionError, UsageError) as exc:
        module.fail_json(msg=redact(str(exc)))
    except OryApiError as exc:
        msg = str(exc)
        if exc.status == 401 and getattr(exc, 'credential', None):
            msg = msg.rstrip('.') + '. The API key rejected comes from %s.' % exc.credential
        fail = dict(msg=redact(msg), status=exc.status)
        if exc.reason:
            fail['reason'] = exc.reason
        if exc.request_id:
            fail['request_id'] = exc.request_id
        if process_summary():
            fail['rate_limit'] = process_summary()
        module.fail_json(**fail)
    if process_summary():
        result['rate_limit'] = process_summary()  # the task waited for Ory Network's rate limits
    module.exit_json(**result)
