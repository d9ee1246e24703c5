# HTTP server: routing for the console plane (/), the Talos plane (/p/{slug}) and the admin API (/__emulator),
# request statistics and fault injection. One ThreadingHTTPServer on 127.0.0.1, HTTP/1.1 keep-alive.
from __future__ import annotations

import email.utils
import re
import socket
import struct
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from . import admin, console, imported, talos
from .errors import ApiError
from .ratelimit import Limiter
from .web import Request, Response

ADMIN_PREFIX = '/__emulator'
MAX_BODY = 4 * 1024 * 1024


def compile_routes(table, api) -> list:
    routes = []
    for method, template, name in table:
        pattern = ''
        for part in re.split(r'(\{[a-z_]+\})', template):
            if part.startswith('{'):
                pattern += '(?P<%s>[^/:]+)' % part[1:-1]
            else:
                pattern += re.escape(part)
        routes.append((method, re.compile(pattern), template, getattr(api, name)))
    return routes


def match(routes, method, path):
    """Return (template, handler, params, allowed_methods)."""
    allowed = []
    for route_method, regex, template, handler in routes:
        found = regex.fullmatch(path)
        if found:
            if route_method == method:
                return template, handler, found.groupdict(), allowed
            allowed.append(route_method)
    return None, None, {}, allowed


class Emulator:
    def __init__(self, state, verbose: bool = False, clock=None):
        self.state = state
        self.verbose = verbose
        self.base_url = 'http://127.0.0.1'
        self.stats = admin.Stats()
        self.faults = admin.Faults()
        self.limiter = Limiter(clock or self.clock)
        self.console = console.ConsoleApi(state)
        self.talos = talos.TalosApi(state, self.project_url)
        self.imported = imported.ImportedApi(state, self.talos)
        self.admin = admin.AdminApi(self)
        self.console_routes = compile_routes(console.ROUTES, self.console)
        self.talos_routes = compile_routes(talos.ROUTES, self.talos) + compile_routes(imported.ROUTES, self.imported)
        self.admin_routes = compile_routes(admin.ROUTES, self.admin)

    def project_url(self, proj: dict) -> str:
        return '%s/p/%s' % (self.base_url, proj['slug'])

    def info(self) -> dict:
        with self.state.lock:
            projects = [{'id': proj['id'], 'slug': proj['slug'], 'name': proj['name'], 'project_api_key': proj['seed_api_key'],
                         'project_url': self.project_url(proj)} for proj in self.state.projects()]
            return {
                'console_url': self.base_url,
                'project_url': projects[0]['project_url'],
                'project_url_template': self.base_url + '/p/%s',
                'workspace_id': self.state.workspace['id'],
                'workspace_api_key': self.state.workspace['seed_api_key'],
                'project_id': projects[0]['id'],
                'project_slug': projects[0]['slug'],
                'project_api_key': projects[0]['project_api_key'],
                'admin_url': self.base_url + ADMIN_PREFIX,
                'projects': projects,
            }

    def clock(self) -> float:
        """The emulator's clock in (fractional) seconds: wall time plus the admin clock offset."""
        return time.time() + int(self.state.data.get('clock_offset', 0))

    def log_error(self, message: str):
        sys.stderr.write('emulator: %s\n' % message)
        sys.stderr.flush()

    # ----- dispatch -----
    def handle(self, req: Request):
        """Return (Response or None, action); action is None, 'reset' or 'drop'."""
        if req.path == ADMIN_PREFIX or req.path.startswith(ADMIN_PREFIX + '/'):
            return self._run('admin', self.admin_routes, req, req.path[len(ADMIN_PREFIX):] or '/'), None
        slug = None
        if req.path.startswith('/p/'):
            plane = 'talos'
            slug, sep, rest = req.path[3:].partition('/')
            path, routes = '/' + rest if sep else '/', self.talos_routes
        else:
            plane, path, routes = 'console', req.path, self.console_routes
        template, handler, params, allowed = match(routes, req.method, path)
        self.stats.count('%s %s' % (req.method, template or '(unmatched)'))
        action = None
        fault = self.faults.take(req.method, template)
        if fault:
            kind = fault['fault']
            if kind == 'rate_limit':
                return Response(429, b'', {'x-ratelimit-limit': str(fault['limit']), 'x-ratelimit-remaining': '0',
                                           'x-ratelimit-reset': str(fault['reset'])}), None
            if kind == 'status':
                return self._error(plane, ApiError(fault['status'], 'injected fault: HTTP %d' % fault['status'])), None
            if kind == 'reset':
                return None, 'reset'
            if kind == 'slow':
                time.sleep(fault['delay'])
            elif kind == 'drop_after_commit':
                action = 'drop'
        if plane == 'talos':
            with self.state.lock:
                req.project = self.state.project(slug) if slug else None
            if req.project is None or req.project['slug'] != slug:
                return self._error(plane, ApiError(404, 'Unable to locate the project: %s' % slug, edge=True)), action
        limited = None
        if template is not None:
            # the edge throttles per project and bucket, before the request reaches authentication
            allowed_now, limited = self.limiter.take(self._limited_project(plane, req, params), '%s %s' % (req.method, template))
            if not allowed_now:
                self.stats.throttled('%s %s' % (req.method, template))
                return Response(429, b'', limited), None
        resp = self._serve(plane, path, template, handler, params, allowed, req)
        if limited:
            resp.headers.update(limited)
        return resp, action

    def _limited_project(self, plane, req, params):
        if plane == 'talos':
            return req.project
        with self.state.lock:
            return self.state.project(params['project']) if params.get('project') else None

    def _serve(self, plane, path, template, handler, params, allowed, req):
        if plane == 'talos' and path.startswith(talos.ADMIN + '/') and template is not None:
            try:
                self.talos.authenticate(req)
            except ApiError as exc:
                return self._error(plane, exc)
        req.params = params
        if template is None:
            if allowed:
                return self._error(plane, ApiError(405, 'Method %s is not allowed here; allowed: %s' % (req.method, ', '.join(allowed))))
            return self._error(plane, ApiError(404, 'Not Found'))
        return self._call(plane, handler, req)

    def _run(self, plane, routes, req, path):
        template, handler, params, allowed = match(routes, req.method, path)
        if template is None:
            code = 405 if allowed else 404
            return self._error(plane, ApiError(code, 'no admin endpoint %s %s' % (req.method, req.path)))
        req.params = params
        return self._call(plane, handler, req)

    def _call(self, plane, handler, req):
        try:
            return handler(req)
        except ApiError as exc:
            return self._error(plane, exc)
        except Exception:  # pylint: disable=broad-exception-caught
            self.log_error('internal error on %s %s\n%s' % (req.method, req.path, traceback.format_exc()))
            return self._error(plane, ApiError(500, 'internal emulator error'))

    @staticmethod
    def _error(plane, exc: ApiError) -> Response:
        return Response(exc.code, exc.render(plane))


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'OryNetworkEmulator/1.0'
    default_request_version = 'HTTP/1.0'
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.emulator.verbose:
            sys.stderr.write('emulator: %s - %s\n' % (self.address_string(), format % args))

    def version_string(self):
        return self.server_version

    def date_time_string(self, timestamp=None):
        """The Date header (RFC 9110 5.6.7) from the emulator's clock, so a moved clock shows in every answer."""
        return email.utils.formatdate(self.server.emulator.clock() if timestamp is None else timestamp, usegmt=True)

    def send_error(self, code, message=None, explain=None):
        """Errors found by http.server itself (bad request line, unsupported method): herodot JSON, then close."""
        del explain
        self.close_connection = True
        body = ApiError(code, message or '').render('console')
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        if self.command != 'HEAD' and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def _read_body(self) -> bytes | None:
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            chunks, size = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    length = int(line.split(b';', 1)[0].strip() or b'x', 16)
                except ValueError:
                    return None
                if length == 0:
                    while self.rfile.readline(1024) not in (b'\r\n', b'\n', b''):
                        pass
                    return b''.join(chunks)
                size += length
                if size > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline(1024)
        raw = self.headers.get('Content-Length')
        if raw is None:
            return b''
        try:
            length = int(raw)
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b''

    def _handle(self):
        body = self._read_body()
        if body is None:
            self.close_connection = True
            self._write(Response(413 if self.headers.get('Content-Length', '').isdigit() else 400,
                                 ApiError(400, 'invalid or too large request body').render('console')))
            return
        parts = urlsplit(self.path)
        req = Request(self.command, unquote(parts.path), parse_qs(parts.query, keep_blank_values=True), self.headers, body,
                      self.client_address[0])
        try:
            resp, action = self.server.emulator.handle(req)
        except Exception:  # pylint: disable=broad-exception-caught
            self.server.emulator.log_error('internal error on %s %s\n%s' % (req.method, req.path, traceback.format_exc()))
            resp, action = Response(500, ApiError(500, 'internal emulator error').render('console')), None
        if action in ('reset', 'drop') or resp is None:
            self._reset()
            return
        self._write(resp)

    def _write(self, resp: Response):
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(resp.body)))
        if self.close_connection:
            self.send_header('Connection', 'close')
        # headers and body in one send (see BaseHTTPRequestHandler.end_headers/flush_headers)
        self._headers_buffer.append(b'\r\n' + resp.body)
        self.flush_headers()

    def _reset(self):
        """Close the TCP connection with an RST, without sending anything."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        except OSError:
            pass
        self.connection.close()

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, emulator: Emulator, port: int):
        self.emulator = emulator
        super().__init__(('127.0.0.1', port), Handler)
        emulator.base_url = 'http://127.0.0.1:%d' % self.server_address[1]

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        self.emulator.log_error('connection error from %s:\n%s' % (client_address[0], traceback.format_exc()))
