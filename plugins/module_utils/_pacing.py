# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side pacing from Ory Network's rate limit headers.

Ory Network throttles per project and per bucket of endpoints (Talos writes, reads and verify, console token calls
each have their own). Every response of a limited bucket says how much is left::

    x-ratelimit-limit: 5, 5;w=1, 15;w=60     (the binding limit, then every policy of the bucket: count;w=seconds)
    x-ratelimit-remaining: 0
    x-ratelimit-reset: 3                      (whole seconds until the bucket refills; 0 when under a second)

A throttled request gets HTTP 429 with an empty body and the same headers (no Retry-After).

The client knows buckets only by what the headers say: the policies in ``x-ratelimit-limit`` name a bucket, and a
request is of the bucket its kind of request (method and path, IDs left out) answered with last time. When a
response leaves ``remaining`` at 0, the next request of that bucket waits ``reset`` + 1 seconds after it (``reset`` is
truncated to whole seconds, so the bucket refills within that time). A 429 that carries ``x-ratelimit-reset`` is
waited out the same way; the caller does not count it as a failed attempt, but stops once one call has waited more
than ``max_wait`` seconds for 429s.

One Pacer belongs to one OryClient (one plane, one credential); its state lives in the process only. Several
processes on the same project share Ory's bucket: each paces from the headers it gets, and a 429 tells it when the
others have used the bucket up.

Progress hook (for long runs, such as the role's engine issuing many keys):

- ``pacer.on_wait = callback``: called before every wait with one dict: ``bucket``, ``seconds`` (this wait),
  ``reason`` (``paced``: remaining reached 0; ``throttled``: answered 429), ``remaining``, ``reset``, ``waits`` and
  ``waited_seconds`` (totals so far, this wait included), ``method`` and ``path``.
- ``pacer.summary()``: ``{waits, waited_seconds, throttled}`` or None when the client never waited.
- ``pacer.estimate(method, path, count)``: expected seconds of waiting for ``count`` more requests of that kind,
  from the bucket's sustained rate, or None before the first answer of that kind.
- ``process_summary()``: the same totals for every client of this process since ``reset_process_totals()``
  (modules add it to their result as ``rate_limit``).
"""

from __future__ import annotations

import re
import time

# Whole seconds are truncated in x-ratelimit-reset: waiting one second more always lands after the refill.
RESET_MARGIN = 1.0
MIN_MAX_WAIT = 120.0

_ID_RE = re.compile(r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
_POLICY_RE = re.compile(r'^\s*(\d+)\s*;\s*w\s*=\s*([0-9.]+)')

_PROCESS = {'waits': 0, 'waited_seconds': 0.0, 'throttled': 0}


def reset_process_totals():
    _PROCESS.update(waits=0, waited_seconds=0.0, throttled=0)


def process_summary():
    """Totals of every client of this process since reset_process_totals(), or None when nothing waited."""
    if not _PROCESS['waits'] and not _PROCESS['throttled']:
        return None
    return dict(_PROCESS, waited_seconds=round(_PROCESS['waited_seconds'], 1))


def request_kind(method, path):
    """The kind of a request: method and path with IDs left out (the unit a bucket is learnt for)."""
    return '%s %s' % (method, _ID_RE.sub('{id}', path.split('?', 1)[0]))


def _numbers(value):
    out = []
    for part in str(value).split(','):
        try:
            out.append(float(part.strip()))
        except ValueError:
            return []
    return out


def parse_headers(headers):
    """(bucket, remaining, reset, policies) from a response's headers; (None, None, None, []) without them."""
    limit = headers.get('x-ratelimit-limit')
    remaining = _numbers(headers.get('x-ratelimit-remaining')) if headers.get('x-ratelimit-remaining') is not None else []
    reset = _numbers(headers.get('x-ratelimit-reset')) if headers.get('x-ratelimit-reset') is not None else []
    policies = []
    if limit:
        for part in limit.split(',')[1:]:
            found = _POLICY_RE.match(part)
            if found and float(found.group(2)) > 0:
                policies.append((int(found.group(1)), float(found.group(2))))
    bucket = ', '.join('%d;w=%g' % policy for policy in policies) if policies else (limit or '').strip() or None
    left = None
    wait = None
    if remaining:
        # one value per bucket: the request is held by the bucket that is used up and resets last
        left = int(min(remaining))
        empty = [index for index, value in enumerate(remaining) if value <= 0]
        if reset and empty:
            wait = max(reset[min(index, len(reset) - 1)] for index in empty)
    if wait is None and reset:
        wait = max(reset) if left is None or left <= 0 else min(reset)
    return bucket, left, wait, policies


class Pacer:
    """Pacing state of one client; see the module documentation."""

    def __init__(self, sleep=None, clock=None, max_wait=MIN_MAX_WAIT):
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        self.max_wait = max(float(max_wait), MIN_MAX_WAIT)
        self.on_wait = None
        self.waits = 0
        self.waited_seconds = 0.0
        self.throttled = 0
        self._kinds = {}      # request kind -> bucket
        self._buckets = {}    # bucket -> {ready_at, remaining, reset, policies}

    def _bucket_of(self, kind):
        return self._kinds.get(kind, 'kind:' + kind)

    def before(self, method, path):
        """Wait, if the last answer of this request's bucket left nothing, until the bucket has refilled."""
        kind = request_kind(method, path)
        bucket = self._bucket_of(kind)
        state = self._buckets.get(bucket)
        if not state or state['ready_at'] is None:
            return 0.0
        seconds = min(state['ready_at'] - self.clock(), self.max_wait)
        state['ready_at'] = None
        if seconds <= 0:
            return 0.0
        self.waits += 1
        self.waited_seconds += seconds
        _PROCESS['waits'] += 1
        _PROCESS['waited_seconds'] += seconds
        if self.on_wait is not None:
            self.on_wait(dict(bucket=bucket, seconds=seconds, reason=state['reason'], remaining=state['remaining'], reset=state['reset'],
                              waits=self.waits, waited_seconds=self.waited_seconds, method=method, path=path))
        self.sleep(seconds)
        return seconds

    def after(self, method, path, response):
        """Learn from a response's headers. For a 429 that says when to come back, return the seconds to wait, else None."""
        throttled = response.status_code == 429
        bucket, remaining, reset, policies = parse_headers(response.headers)
        if bucket is None and not throttled and reset is None:
            return None
        kind = request_kind(method, path)
        if bucket is None:
            bucket = self._bucket_of(kind)
        self._kinds[kind] = bucket
        state = self._buckets.setdefault(bucket, {'ready_at': None, 'remaining': None, 'reset': None, 'policies': [], 'reason': None})
        if policies:
            state['policies'] = policies
        if throttled:
            remaining = 0
            self.throttled += 1
            _PROCESS['throttled'] += 1
        state['remaining'] = remaining
        state['reset'] = reset
        if remaining is not None and remaining <= 0 and reset is not None:
            seconds = max(0.0, reset) + RESET_MARGIN
            state['ready_at'] = self.clock() + seconds
            state['reason'] = 'throttled' if throttled else 'paced'
            return seconds if throttled else None
        state['ready_at'] = None
        return None

    def summary(self):
        if not self.waits and not self.throttled:
            return None
        return dict(waits=self.waits, waited_seconds=round(self.waited_seconds, 1), throttled=self.throttled)

    def estimate(self, method, path, count):
        """Expected seconds of waiting before ``count`` more requests of this kind are through, or None if unknown."""
        state = self._buckets.get(self._bucket_of(request_kind(method, path)))
        if not state or not state['policies']:
            return None
        rate = min(limit / window for limit, window in state['policies'])
        ahead = max(0, count - max(0, state['remaining'] or 0))
        return ahead / rate
