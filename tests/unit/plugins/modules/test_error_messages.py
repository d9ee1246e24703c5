# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a user reads when the connection fails: refused, TLS, 401. Real sockets on 127.0.0.1 where the cause is the network."""
from __future__ import annotations

import datetime
import socket
import ssl
import threading

import pytest

from ansible_collections.ory.network.plugins.module_utils import _client
from ansible_collections.ory.network.plugins.modules import ory_issued_api_key_info, ory_project_api_key_info
from ansible_collections.ory.network.tests.emulator import state as emulator_state
from ansible_collections.ory.network.tests.emulator.server import Emulator, EmulatorServer

WRONG_WAK = 'ory_wak_' + 'x' * 40
WRONG_PAT = 'ory_pat_' + 'y' * 40


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(_client.time, 'sleep', slept.append)
    return slept


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_connection_refused_says_refused_attempts_time_and_url(run_main, sleeps):
    url = 'http://127.0.0.1:%d' % free_port()
    result, code = run_main(ory_project_api_key_info, dict(workspace_api_key=WRONG_WAK, console_api_url=url, project_id='p', retries=2))
    assert code == 1
    msg = result['msg']
    assert 'refused' in msg and url in msg, msg
    assert '3 attempts over %.1f s' % sum(sleeps) in msg, msg
    assert len(sleeps) == 2


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'emulator.test')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def tls_emulator(tmp_path):
    """The emulator served over HTTPS with a self-signed certificate, on 127.0.0.1."""
    cert, key = _self_signed(tmp_path)
    state = emulator_state.State(None)
    state.load_or_seed({})
    emulator = Emulator(state)
    server = EmulatorServer(emulator, 0)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    emulator.base_url = 'https://127.0.0.1:%d' % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    yield emulator.info(), cert
    server.shutdown()
    server.server_close()


def test_tls_failure_names_the_cause_and_the_options_that_fix_it(run_main, sleeps, tls_emulator):
    info, cert = tls_emulator
    args = dict(workspace_api_key=info['workspace_api_key'], console_api_url=info['console_url'], project_id=info['project_id'])
    result, code = run_main(ory_project_api_key_info, args)
    assert code == 1
    msg = result['msg']
    assert 'certificate could not be verified' in msg and 'self' in msg and 'signed' in msg, msg
    assert 'ca_path' in msg and 'validate_certs' in msg and info['console_url'] in msg
    assert 'SSLError' not in msg

    result, code = run_main(ory_project_api_key_info, dict(args, ca_path=cert))
    assert code == 0, result['msg']
    assert [k['name'] for k in result['api_keys']] == ['emulator-seed']


def test_plain_http_to_a_tls_port_is_named(run_main, sleeps, tls_emulator):
    info, dummy = tls_emulator
    url = info['console_url'].replace('https://', 'http://')
    args = dict(workspace_api_key=info['workspace_api_key'], console_api_url=url, project_id=info['project_id'], retries=0)
    result, code = run_main(ory_project_api_key_info, args)
    assert code == 1 and url in result['msg']


def test_401_names_the_option_the_rejected_key_came_from_once(ory, run_main):
    result, code = run_main(ory_project_api_key_info, ory.console_args(workspace_api_key=WRONG_WAK, project_id=ory.project_id))
    assert code == 1 and result['status'] == 401
    assert result['msg'].count('could not be authorized') == 1, result['msg']
    assert 'comes from the workspace_api_key option' in result['msg']
    assert 'ORY_WORKSPACE_API_KEY' not in result['msg']


def test_401_names_the_environment_variable_the_rejected_key_came_from(ory, run_main, monkeypatch):
    monkeypatch.setenv('ORY_PROJECT_API_KEY', WRONG_PAT)
    args = ory.talos_args()
    del args['project_api_key']
    result, code = run_main(ory_issued_api_key_info, args)
    assert code == 1 and result['status'] == 401
    assert result['msg'].count('could not be authorized') == 1, result['msg']
    assert 'comes from the ORY_PROJECT_API_KEY environment variable' in result['msg']
