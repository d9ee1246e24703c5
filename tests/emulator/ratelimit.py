# Project rate limits as the Ory Network edge applies them (contract §1.4): every endpoint belongs to a bucket,
# each bucket of a project has a per-second (burst) and a per-minute (sustained) threshold, kept here as two token
# buckets. A request of a limited bucket takes one token from each; when one is empty the edge answers 429 with an
# empty body. Every response of a limited bucket carries x-ratelimit-limit / -remaining / -reset.
# Off unless a project's settings have `rate_limits` (seed config or PATCH /__emulator/projects/{slug}).
from __future__ import annotations

import math
import threading

# Plan thresholds known from the contract (bucket-to-threshold.csv, prod environment). Other buckets have no
# published numbers in the contract: they are unlimited unless a config names them.
PLANS = {
    'develop': {'talos-admin-low': {'per_second': 5, 'per_minute': 15}},
    'enterprise': {'talos-admin-low': {'per_second': 9, 'per_minute': 200}},
}
BUCKETS = ('talos-admin-low', 'talos-admin-medium', 'talos-admin-high', 'talos-public-low', 'backoffice-admin-low')
WINDOWS = {'per_second': 1, 'per_minute': 60}
MAX_TIME_SCALE = 1000

# "<METHOD> <template>" (as in the admin stats) -> bucket [contract §1.4: bucket-to-endpoints.csv]
ENDPOINT_BUCKETS = {
    'POST /v2alpha1/admin/issuedApiKeys': 'talos-admin-low',
    'PATCH /v2alpha1/admin/issuedApiKeys/{key_id}': 'talos-admin-low',
    'POST /v2alpha1/admin/issuedApiKeys/{key_id}:revoke': 'talos-admin-low',
    'POST /v2alpha1/admin/apiKeys/{key_id}:revoke': 'talos-admin-low',
    'POST /v2alpha1/admin/issuedApiKeys/{key_id}:rotate': 'talos-admin-low',
    'GET /v2alpha1/admin/issuedApiKeys': 'talos-admin-medium',
    'GET /v2alpha1/admin/issuedApiKeys/{key_id}': 'talos-admin-medium',
    'POST /v2alpha1/admin/apiKeys:verify': 'talos-admin-high',
    'POST /v2alpha1/admin/apiKeys:batchVerify': 'talos-admin-high',
    'POST /v2alpha1/apiKeys:selfRevoke': 'talos-public-low',
    'POST /projects/{project}/tokens': 'backoffice-admin-low',
    'GET /projects/{project}/tokens': 'backoffice-admin-low',
    'DELETE /projects/{project}/tokens/{token_id}': 'backoffice-admin-low',
}


class RateLimitConfigError(ValueError):
    pass


def _positive_int(value, where):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RateLimitConfigError('%s: expected an integer >= 1' % where)
    return value


def normalize(value):
    """Validate a `rate_limits` setting; return None (off) or {plan, time_scale, buckets: {name: {per_second, per_minute}}}.

    `plan` (develop, enterprise) fills the thresholds the contract gives; `buckets` adds or overrides buckets
    (null or {} removes one); `time_scale: 10` makes every window 10 times shorter (a benchmark runs a plan 10x faster).
    """
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        raise RateLimitConfigError('rate_limits: expected a mapping with plan, time_scale and/or buckets')
    unknown = set(value) - {'plan', 'time_scale', 'buckets'}
    if unknown:
        raise RateLimitConfigError('rate_limits: unknown field(s) %s' % ', '.join(sorted(unknown)))
    plan = value.get('plan')
    if plan is not None and plan not in PLANS:
        raise RateLimitConfigError('rate_limits.plan: expected one of %s' % ', '.join(sorted(PLANS)))
    scale = value.get('time_scale', 1)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= MAX_TIME_SCALE:
        raise RateLimitConfigError('rate_limits.time_scale: expected a number above 0 and at most %d' % MAX_TIME_SCALE)
    buckets = {name: dict(limits) for name, limits in PLANS.get(plan, {}).items()}
    overrides = value.get('buckets') or {}
    if not isinstance(overrides, dict):
        raise RateLimitConfigError('rate_limits.buckets: expected a mapping of bucket name to thresholds')
    for name, limits in overrides.items():
        if name not in BUCKETS:
            raise RateLimitConfigError('rate_limits.buckets: unknown bucket %r; known: %s' % (name, ', '.join(BUCKETS)))
        if limits is None or limits == {}:
            buckets.pop(name, None)
            continue
        if not isinstance(limits, dict) or not limits or set(limits) - set(WINDOWS):
            raise RateLimitConfigError('rate_limits.buckets.%s: expected per_second and/or per_minute' % name)
        buckets[name] = {window: _positive_int(count, 'rate_limits.buckets.%s.%s' % (name, window)) for window, count in limits.items()}
    if not buckets:
        return None
    return {'plan': plan, 'time_scale': scale, 'buckets': buckets}


def _seconds(value):
    text = '%.3f' % value
    return text.rstrip('0').rstrip('.')


class Limiter:
    """Token buckets per (project, bucket). ``clock()`` is the emulator's clock in seconds (float)."""

    def __init__(self, clock):
        self.clock = clock
        self.lock = threading.Lock()
        self.levels: dict = {}

    def take(self, project: dict, endpoint: str):
        """Return (allowed, headers); headers is None when the endpoint's bucket is not limited for this project."""
        bucket = ENDPOINT_BUCKETS.get(endpoint)
        config = (project.get('settings') or {}).get('rate_limits') if project else None
        limits = (config or {}).get('buckets', {}).get(bucket) if bucket else None
        if not limits:
            return True, None
        scale = config.get('time_scale', 1)
        policies = sorted(((count, WINDOWS[window] / scale) for window, count in limits.items()), key=lambda policy: policy[1])
        key = (project['id'], bucket, tuple(policies))
        with self.lock:
            now = self.clock()
            state = self.levels.get(key)
            if state is None:
                state = self.levels[key] = {'tokens': [float(count) for count, dummy in policies], 'at': now}
            elapsed = max(0.0, now - state['at'])
            state['at'] = now
            tokens = state['tokens']
            for index, (count, window) in enumerate(policies):
                tokens[index] = min(float(count), tokens[index] + elapsed * count / window)
            allowed = all(level >= 1.0 for level in tokens)
            if allowed:
                for index, dummy in enumerate(tokens):
                    tokens[index] -= 1.0
            return allowed, self._headers(policies, tokens)

    @staticmethod
    def _headers(policies, tokens):
        # The binding policy is the one with the fewest whole tokens left (ties: the one slowest to refill).
        remaining = [int(math.floor(level + 1e-9)) for level in tokens]
        index = min(range(len(policies)), key=lambda i: (remaining[i], -policies[i][1] / policies[i][0]))
        count, window = policies[index]
        missing = 1.0 - (tokens[index] - remaining[index]) if remaining[index] < count else 0.0
        # seconds until the binding policy has one more token, in whole seconds, truncated: 0 on sub-second refills
        reset = int(missing * window / count)
        return {
            'x-ratelimit-limit': '%d, %s' % (count, ', '.join('%d;w=%s' % (c, _seconds(w)) for c, w in policies)),
            'x-ratelimit-remaining': str(max(0, remaining[index])),
            'x-ratelimit-reset': str(reset),
        }

    def clear(self):
        with self.lock:
            self.levels = {}
