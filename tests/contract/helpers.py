# Helpers for the emulator contract tests: an emulator subprocess with a requests session, SDK parsing, envelope checks.
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid

import pydantic
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMESTAMP_RE = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$')
FIRST_LINE_KEYS = {'console_url', 'project_url', 'project_url_template', 'workspace_id', 'workspace_api_key', 'project_id',
                   'project_slug', 'project_api_key', 'admin_url', 'projects'}
ISSUE = '/v2alpha1/admin/issuedApiKeys'
VERIFY = '/v2alpha1/admin/apiKeys:verify'


class Emulator:
    """One emulator subprocess and a keep-alive HTTP session to it."""

    def __init__(self, workdir, config=None, state_file=None, args=()):
        self.workdir = str(workdir)
        self.state_file = state_file or os.path.join(self.workdir, 'state-%s.json' % uuid.uuid4().hex[:8])
        self.config_file = None
        if config is not None:
            self.config_file = os.path.join(self.workdir, 'config-%s.json' % uuid.uuid4().hex[:8])
            with open(self.config_file, 'w', encoding='utf-8') as handle:
                json.dump(config, handle)
        self.args = list(args)
        self.proc = None
        self.info = None
        self.stderr_path = os.path.join(self.workdir, 'stderr-%s.log' % uuid.uuid4().hex[:8])
        self.session = requests.Session()

    def start(self):
        cmd = [sys.executable, '-m', 'tests.emulator', '--port', '0', '--state-file', self.state_file] + self.args
        if self.config_file:
            cmd += ['--config', self.config_file]
        with open(self.stderr_path, 'ab') as err:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)  # pylint: disable=consider-using-with
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            raise RuntimeError('emulator did not start (rc=%s): %s' % (self.proc.returncode, self.stderr()))
        self.info = json.loads(line)
        return self

    def stop(self, sig=signal.SIGTERM) -> int:
        """Signal the emulator and wait; returns its exit code."""
        self.session.close()
        if self.proc is None:
            return 0
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise
        finally:
            self.proc.stdout.close()

    def restart(self) -> dict:
        assert self.stop() == 0
        self.session = requests.Session()
        return self.start().info

    def stderr(self) -> str:
        with open(self.stderr_path, encoding='utf-8', errors='replace') as handle:
            return handle.read()

    # ----- requests -----
    def key(self, which):
        if which == 'workspace':
            return self.info['workspace_api_key']
        if which == 'project':
            return self.info['project_api_key']
        return which

    def _send(self, method, url, key, **kwargs):
        headers = dict(kwargs.pop('headers', None) or {})
        if key is not None:
            headers['Authorization'] = 'Bearer ' + self.key(key)
        kwargs.setdefault('timeout', 30)
        return self.session.request(method, url, headers=headers, **kwargs)

    def console(self, method, path, key='workspace', **kwargs):
        return self._send(method, self.info['console_url'] + path, key, **kwargs)

    def talos(self, method, path, key='project', slug=None, **kwargs):
        base = self.info['project_url_template'] % slug if slug else self.info['project_url']
        return self._send(method, base + path, key, **kwargs)

    def admin(self, method, path, **kwargs):
        kwargs.setdefault('timeout', 30)
        return self.session.request(method, self.info['admin_url'] + path, **kwargs)

    # ----- shortcuts -----
    def issue(self, expect=201, key='project', slug=None, **body):
        resp = self.talos('POST', ISSUE, key=key, slug=slug, json=body)
        assert resp.status_code == expect, resp.text
        return resp.json()

    def verify(self, credential, slug=None):
        resp = self.talos('POST', VERIFY, slug=slug, json={'credential': credential})
        assert resp.status_code == 200, resp.text
        return resp.json()

    def get_key(self, key_id):
        resp = self.talos('GET', ISSUE + '/' + key_id)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def revoke(self, key_id, reason='REVOCATION_REASON_KEY_COMPROMISE', expect=204, **extra):
        resp = self.talos('POST', '%s/%s:revoke' % (ISSUE, key_id), json=dict(reason=reason, **extra))
        assert resp.status_code == expect, resp.text
        return resp

    def set_project(self, slug=None, **knobs):
        resp = self.admin('PATCH', '/projects/' + (slug or self.info['project_slug']), json=knobs)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def add_fault(self, **spec):
        resp = self.admin('POST', '/faults', json=spec)
        assert resp.status_code == 201, resp.text
        return resp.json()

    def advance(self, duration):
        resp = self.admin('POST', '/clock', json={'advance': duration})
        assert resp.status_code == 200, resp.text
        return resp.json()


def _check_no_extras(model):
    assert model.additional_properties == {}, 'unexpected fields: %s' % sorted(model.additional_properties)
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, pydantic.BaseModel) and hasattr(item, 'additional_properties'):
                _check_no_extras(item)


def sdk(model_cls, data):
    """Parse a JSON body (dict or text) with an official ory_client model; fail on extra or invalid fields."""
    if isinstance(data, (str, bytes)):
        data = json.loads(data)
    model = model_cls.from_dict(data)
    assert model is not None
    _check_no_extras(model)
    return model


def sdk_list(model_cls, data):
    if isinstance(data, (str, bytes)):
        data = json.loads(data)
    assert isinstance(data, list)
    return [sdk(model_cls, item) for item in data]


def assert_timestamps(obj, *names):
    for name in names:
        assert TIMESTAMP_RE.match(obj[name]), '%s=%r is not RFC 3339 UTC whole seconds' % (name, obj[name])


def assert_herodot(resp, code, id_=None):
    """The console / Ory edge error envelope."""
    assert resp.status_code == code, resp.text
    assert resp.headers['Content-Type'].startswith('application/json')
    err = resp.json()['error']
    assert {'id', 'code', 'status', 'reason', 'message', 'request'} <= set(err) <= {'id', 'code', 'status', 'reason', 'message', 'request', 'details'}, err
    assert err['code'] == code
    assert isinstance(err['status'], str) and err['status']
    assert isinstance(err['reason'], str) and err['reason']
    uuid.UUID(err['request'])
    if id_:
        assert err['id'] == id_
    return err


def assert_aip(resp, code, status, reason, message=None):
    """The Talos AIP-193 error envelope."""
    assert resp.status_code == code, resp.text
    err = resp.json()['error']
    assert set(err) == {'code', 'message', 'status', 'details'}, err
    assert err['code'] == code
    assert err['status'] == status, err
    assert len(err['details']) == 1
    info = err['details'][0]
    assert info['@type'] == 'type.googleapis.com/google.rpc.ErrorInfo'
    assert info['domain'] == 'www.ory.com/talos'
    assert info['reason'] == reason, err
    if message is not None:
        assert err['message'] == message, err
    return err
