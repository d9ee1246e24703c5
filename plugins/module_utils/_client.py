# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP client of the collection, for both Ory Network planes.

- console plane (api.console.ory.sh), authenticated with a workspace API key;
- project plane (Ory Talos, <slug>.projects.oryapis.com), authenticated with a project API key.

Retries: jittered exponential backoff on 429 (honouring x-ratelimit-reset / Retry-After), 502, 503, 504
and connection errors; 500 too when sending again is safe (reads, idempotent calls, and writes that
re-read first). A request the server may have carried out (a write whose response was lost, or that
timed out and may still be running) is never sent again blindly: the caller passes ``recover``, which
re-reads the state and returns the outcome, ``RESEND`` (the earlier attempt is accounted for: send
again) or ``None`` (no trace of it). After a timeout, ``None`` is not trusted at once: the request may
still be running on the server, so the state is re-read with backoff for a settling window before the
write is sent again. A 429, or a connection that could not be opened, never reached the API and is
always safe to send again. Rate limits: the client paces itself from Ory's x-ratelimit-* headers (see
_pacing.py): it waits for a bucket to refill before sending into it, and a 429 that says when to come back
is waited out without counting as a failed attempt.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import random
import re
import time

from ansible_collections.ory.network.plugins.module_utils._pacing import Pacer

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by the missing-library check
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

USER_AGENT = 'ansible-collection-ory.network/0.1.0'
RETRY_STATUSES = (429, 502, 503, 504)
# Statuses after which a write may have been carried out (the edge or the server failed after receiving it).
AMBIGUOUS_STATUSES = (500, 502, 503, 504)
MAX_BACKOFF = 30.0
# How long a timed-out write is watched (re-read with backoff) before it is taken as not carried out:
# SETTLE_FACTOR x timeout, at least SETTLE_MIN seconds.
SETTLE_MIN = 10.0
SETTLE_FACTOR = 2.0
# recover() result: the earlier attempt is accounted for (it did not happen, or its effect was undone): send again.
RESEND = 'resend'

# Anything shaped like an Ory credential: prefix + body. Used to scrub every message we produce.
_SECRET_RE = re.compile(r'\b(ory_[a-z]{2,8}_)[A-Za-z0-9_\-\.]{6,}')


def redact(text):
    """Replace every credential-shaped substring with its prefix and asterisks."""
    if text is None:
        return None
    return _SECRET_RE.sub(lambda m: m.group(1) + '***', str(text))


class OryApiError(Exception):
    """An API call failed. ``str()`` is one sentence: the call, HTTP status, reason code, message, request id."""

    maybe_done = False    # set by OryClient.request: a write that failed this way may still have been carried out

    def __init__(self, method, path, status=None, reason=None, message=None, request_id=None, body=None):
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.message = redact(message)
        self.request_id = request_id
        self.body = body if isinstance(body, dict) else None
        super().__init__(self.describe())

    def describe(self):
        parts = []
        if self.status:
            parts.append('HTTP %s' % self.status)
        if self.reason:
            parts.append(self.reason)
        head = '%s %s failed' % (self.method, self.path)
        text = head + (': ' + ' '.join(parts) if parts else '')
        if self.message:
            text += ': ' + self.message.rstrip('.')
        if self.request_id:
            text += ' (request id %s)' % self.request_id
        return text + '.'

    def __str__(self):
        return self.describe()

    @property
    def is_retryable(self):
        return self.status in RETRY_STATUSES


class OryConnectionError(OryApiError):
    """The server could not be reached, or the connection broke before a response arrived."""

    def __init__(self, method, path, cause, sent, timed_out=False):
        self.cause = cause
        self.sent = sent
        self.timed_out = timed_out
        self.attempts = 1
        self.elapsed = 0.0
        super().__init__(method, path, message=cause)

    def describe(self):
        text = super().describe()
        if self.attempts > 1:
            text = text[:-1] + ' (%d attempts over %.1f s).' % (self.attempts, self.elapsed)
        return text

    @property
    def is_retryable(self):
        return True


def parse_error(method, path, response):
    """Build an OryApiError from any of the error bodies Ory Network sends.

    - console (herodot): {"error": {"id", "code", "status", "reason", "message", "request"}}
    - Talos (AIP-193):   {"error": {"code", "status", "message", "details": [{"reason", ...}]}}
    - edge 429: empty body, x-ratelimit-* headers
    """
    status = response.status_code
    reason = message = request_id = None
    body = None
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    error = body.get('error') if isinstance(body, dict) else None
    if isinstance(error, dict):
        details = error.get('details')
        if isinstance(details, list) and details and isinstance(details[0], dict) and details[0].get('reason'):
            reason = details[0]['reason']                       # Talos: the machine-readable code
            message = error.get('message')
        else:
            if error.get('id'):
                reason = str(error['id']).upper()               # herodot id, e.g. feature_not_available
            elif isinstance(error.get('status'), str):
                reason = error['status']
            # herodot: "reason" is the human detail, "message" the generic sentence
            texts = [t for t in (error.get('message'), error.get('reason')) if isinstance(t, str) and t]
            if len(texts) == 2 and texts[1].startswith(texts[0].rstrip('.')):
                texts = texts[1:]                               # the detail already repeats the generic sentence
            message = ': '.join(texts) if texts else None
        request_id = error.get('request') or response.headers.get('x-request-id')
    elif isinstance(body, dict) and body.get('message'):
        message = body.get('message')
    if status == 429 and not message:
        reason = reason or 'RATE_LIMITED'
        reset = response.headers.get('x-ratelimit-reset')
        message = 'rate limited by Ory Network' + (' (x-ratelimit-reset %ss)' % reset if reset else '')
    if not message and not reason:
        message = response.reason or 'no error body'
    return OryApiError(method, path, status, reason, message, request_id, body)


def server_date(response):
    """The time of an HTTP answer's Date header (whole seconds, UTC), or None when it has none or an unreadable one."""
    try:
        value = response.headers.get('Date')
        stamp = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, AttributeError):
        return None
    if stamp is None or stamp.tzinfo is None:
        return None
    return stamp.astimezone(datetime.timezone.utc).replace(microsecond=0)


def backoff_delay(attempt, response=None, rng=random.random):
    """Seconds to wait before retry number ``attempt`` (1-based): 0.5 s doubling, 50 % jitter, server hints win."""
    delay = min(MAX_BACKOFF, 0.5 * (2 ** (attempt - 1)))
    delay += delay * 0.5 * rng()
    if response is not None:
        for header in ('retry-after', 'x-ratelimit-reset'):
            value = response.headers.get(header)
            try:
                hint = float(str(value).split(',', maxsplit=1)[0])
            except (TypeError, ValueError):
                continue
            if hint > 0:
                delay = max(delay, min(MAX_BACKOFF, hint))
    return delay


class OryClient:
    """HTTP client for one plane. One requests.Session per module run (connection reuse)."""

    def __init__(self, base_url, api_key, validate_certs=True, ca_path=None, timeout=30, retries=5, sleep=None, session=None,
                 credential=None, clock=None):
        if not HAS_REQUESTS:
            raise RuntimeError('requests is required')
        # (option, environment variable, where it came from) of the API key, named when the API rejects it (401).
        self.credential = credential
        self.base_url = base_url.rstrip('/')
        self.timeout = timeout
        self.retries = retries
        self.sleep = sleep or time.sleep
        # 429s are waited out without counting as attempts, for at most timeout x (retries + 1) seconds per call
        self.pacing = Pacer(self.sleep, clock, max_wait=(timeout or 30) * (retries + 1))
        self.session = session or requests.Session()
        self.session.headers.update({'Authorization': 'Bearer %s' % api_key, 'Accept': 'application/json', 'User-Agent': USER_AGENT})
        # Given with every request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's verify setting.
        self.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        self.session.verify = self.verify
        self.requests_sent = 0
        # Ory Network's clock: the Date of its latest answer (None before the first, or when it sends none)
        self.server_time = None

    def request(self, method, path, params=None, body=None, expected=(200,), idempotent=None, recover=None):
        """Send one API call and return the decoded JSON body (None for an empty one).

        ``idempotent`` (default: True for GET/DELETE) allows re-sending after any retryable failure.
        For other writes, ``recover()`` is called after an ambiguous failure; its result is returned as the
        outcome, unless it is ``RESEND`` or ``None`` (see the module docstring). When the retries run out after
        an ambiguous failure, ``recover()`` still runs once (with the settling wait after a timeout), so that
        nothing this call may have created is left unseen.
        Raises OryApiError (or OryConnectionError) when the call fails for good; its ``maybe_done`` is True when
        an attempt of a write may have been carried out by the server.
        """
        if idempotent is None:
            idempotent = method in ('GET', 'HEAD', 'DELETE')
        attempt = 0
        started, slept = time.monotonic(), 0.0
        maybe_done = False
        throttled_for = 0.0
        while True:
            attempt += 1
            self.pacing.before(method, path)
            failure, response = self._send(method, path, params, body)
            come_back = self.pacing.after(method, path, response) if response is not None else None
            if failure is None:
                if response.status_code in expected:
                    return self._decode(method, path, response)
                failure = parse_error(method, path, response)
                if response.status_code == 401 and self.credential:
                    failure.credential = self.credential
            if come_back is not None:
                # a 429 that says when the bucket refills never reached the API: wait (in pacing.before) and resend
                throttled_for += come_back
                if throttled_for > self.pacing.max_wait:
                    raise OryApiError(method, path, 429, 'RATE_LIMITED', 'rate limited by Ory Network: the next try would be in %d s after %d s of '
                                      'waiting, and a call waits at most %d s (timeout x (retries + 1), at least 120 s)'
                                      % (come_back, throttled_for - come_back, self.pacing.max_wait))
                attempt -= 1
                continue
            never_reached = (response is not None and response.status_code == 429) or \
                (isinstance(failure, OryConnectionError) and not failure.sent)
            if isinstance(failure, OryConnectionError):
                failure.attempts = attempt
                failure.elapsed = max(time.monotonic() - started, slept)
            ambiguous = method not in ('GET', 'HEAD') and not never_reached and \
                (isinstance(failure, OryConnectionError) or failure.status in AMBIGUOUS_STATUSES)
            maybe_done = maybe_done or ambiguous
            failure.maybe_done = maybe_done
            # 500 is retried only where a second attempt is safe: idempotent calls, and writes that re-read first.
            retryable = failure.is_retryable or (failure.status == 500 and (idempotent or recover is not None))
            last = not retryable or attempt > self.retries
            delay = min(backoff_delay(attempt, response), self.timeout)
            if idempotent or never_reached or recover is None:
                if last or (not idempotent and not never_reached):
                    raise failure
                slept += delay
                self.sleep(delay)
                continue
            if last and not ambiguous:
                raise failure
            slept += delay
            self.sleep(delay)
            outcome = self._recover(recover, failure)
            if outcome is not None and outcome != RESEND:
                return outcome
            if last:
                raise failure

    def _recover(self, recover, failure):
        """Run ``recover()``; after a timeout, keep re-reading while it sees no trace of the write, for the settling window."""
        outcome = recover()
        if not getattr(failure, 'timed_out', False):
            return outcome
        window = max(SETTLE_MIN, SETTLE_FACTOR * float(self.timeout))
        waited = 0.0
        poll = 0
        while outcome is None and waited < window:
            poll += 1
            delay = min(backoff_delay(poll), window - waited, self.timeout)
            self.sleep(delay)
            waited += delay
            outcome = recover()
        return outcome

    def _send(self, method, path, params, body):
        url = self.base_url + path
        kwargs = dict(params=params, timeout=self.timeout, verify=self.verify)
        if body is not None:
            kwargs['data'] = json.dumps(body)
            kwargs['headers'] = {'Content-Type': 'application/json'}
        self.requests_sent += 1
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.exceptions.ConnectTimeout:
            return OryConnectionError(method, path, 'connection to %s timed out' % self.base_url, sent=False), None
        except requests.exceptions.SSLError as exc:
            return OryApiError(method, path, reason='TLS_ERROR', message=tls_failure(self.base_url, exc)), None
        except requests.exceptions.ConnectionError as exc:
            sent = not _is_connect_failure(exc)
            if sent:
                what = 'connection to %s broke before a response arrived' % self.base_url
            elif _is_refused(exc):
                what = 'connection to %s refused: nothing listens there; check the URL and that the service runs' % self.base_url
            elif _is_unresolved(exc):
                what = 'the host of %s could not be resolved; check the URL' % self.base_url
            else:
                what = 'could not connect to %s' % self.base_url
            return OryConnectionError(method, path, what, sent=sent), None
        except requests.exceptions.Timeout:
            return OryConnectionError(method, path, 'no response from %s within %ss (timeout)' % (self.base_url, self.timeout),
                                      sent=True, timed_out=True), None
        except requests.exceptions.RequestException as exc:
            return OryApiError(method, path, message='request failed: %s' % type(exc).__name__), None
        self.server_time = server_date(response) or self.server_time
        return None, response

    @staticmethod
    def _decode(method, path, response):
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise OryApiError(method, path, response.status_code, 'INVALID_RESPONSE', 'the response is not JSON') from None

    def paginate(self, path, items_key, params=None, page_size=1000):
        """Yield every item of a Talos list, following next_page_token (largest pages: fewest requests)."""
        query = dict(params or {})
        query['page_size'] = page_size
        while True:
            page = self.request('GET', path, params=query) or {}
            yield from page.get(items_key) or []
            token = page.get('next_page_token')
            if not token:
                return
            query['page_token'] = token


_TLS_CAUSE_RE = re.compile(r'certificate verify failed: ([^(\)\'"]+)|(WRONG_VERSION_NUMBER|wrong version number)|'
                           r"(hostname '[^']+' doesn't match [^)\\]+|Hostname mismatch[^)\\']*)", re.IGNORECASE)


def tls_failure(base_url, exc):
    """One sentence for a failed TLS handshake: the cause, and the options that fix it."""
    text = str(exc)
    found = _TLS_CAUSE_RE.search(text)
    if found and found.group(1):
        cause = 'the certificate could not be verified (%s)' % found.group(1).strip().rstrip('.')
    elif found and found.group(2):
        cause = 'the server does not speak TLS (is the URL http://?)'
    elif found and found.group(3):
        cause = 'the certificate does not match the host name'
    else:
        cause = 'the TLS handshake failed (%s)' % type(exc).__name__
    return ('TLS connection to %s failed: %s; give the CA bundle that signs the server certificate in ca_path (or ORY_CA_PATH), '
            'or set validate_certs: false (ORY_VALIDATE_CERTS=false) only for a test server' % (base_url, redact(cause)))


def _is_refused(exc):
    text = repr(exc)
    return 'Connection refused' in text or 'Errno 111' in text or 'ConnectionRefusedError' in text


def _is_unresolved(exc):
    text = repr(exc)
    return any(marker in text for marker in ('Name or service not known', 'nodename nor servname', 'Temporary failure in name resolution',
                                             'NameResolutionError', 'getaddrinfo failed'))


def _is_connect_failure(exc):
    """True when the TCP connection was never established (so the request was not sent)."""
    text = repr(exc)
    markers = ('NewConnectionError', 'Connection refused', 'Name or service not known', 'nodename nor servname', 'Failed to establish')
    return any(marker in text for marker in markers)


def console_client(connection, sleep=None, session=None):
    """Client for the console plane (workspace API key)."""
    return OryClient(connection.console_url, connection.workspace_key(), connection.validate_certs, connection.ca_path,
                     connection.timeout, connection.retries, sleep=sleep, session=session,
                     credential=connection.source('workspace_api_key', 'ORY_WORKSPACE_API_KEY'))


def project_client(connection, sleep=None, session=None):
    """Client for a project's API (project API key)."""
    return OryClient(connection.project_url, connection.project_key(), connection.validate_certs, connection.ca_path,
                     connection.timeout, connection.retries, sleep=sleep, session=session,
                     credential=connection.source('project_api_key', 'ORY_PROJECT_API_KEY'))
