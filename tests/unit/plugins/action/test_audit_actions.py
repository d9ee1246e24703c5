"""Unit tests of the controller-side helpers of the audit: stored-secret metadata from a vault file, report writes."""
from __future__ import annotations

import os

from ansible_collections.ory.network.plugins.action.ory_api_key_audit import stored_secrets
from ansible_collections.ory.network.plugins.action.ory_api_key_report import write_if_changed


def test_stored_secrets_keeps_metadata_never_secrets():
    data = {
        'ory_issued_api_key_checkout': 'checkout-secret_value',
        'ory_issued_api_key_checkout_meta': {'key_id': 'k1', 'name': 'prod:checkout', 'expires_at': '2027-01-01T00:00:00Z', 'stored_at': 'x'},
        'ory_project_api_key_talos': 'talos-secret_value',
        'ory_project_api_key_talos_meta': {'key_id': 'k2', 'name': 'prod:talos', 'expires_at': None},
        'orphan_meta': {'key_id': 'k3'},                      # metadata whose secret is gone: not stored
        'no_id_meta': {'name': 'x'},
        'no_id': 'value',
        'unrelated': 42,
    }
    out = stored_secrets(data)
    assert out == [{'var': 'ory_issued_api_key_checkout', 'key_id': 'k1', 'name': 'prod:checkout', 'expires_at': '2027-01-01T00:00:00Z'},
                   {'var': 'ory_project_api_key_talos', 'key_id': 'k2', 'name': 'prod:talos', 'expires_at': None}]
    assert 'secret_value' not in repr(out)


def test_report_files_are_written_only_when_they_change(tmp_path):
    path = os.path.join(str(tmp_path), 'sub', 'report.html')
    assert write_if_changed(path, 'one', check_mode=True) is True and not os.path.exists(path)
    assert write_if_changed(path, 'one', check_mode=False) is True
    stamp = os.stat(path).st_mtime_ns
    assert write_if_changed(path, 'one', check_mode=False) is False and os.stat(path).st_mtime_ns == stamp
    assert write_if_changed(path, 'two', check_mode=True) is True
    with open(path, encoding='utf-8') as handle:
        assert handle.read() == 'one'
    assert write_if_changed(path, 'two', check_mode=False) is True
    with open(path, encoding='utf-8') as handle:
        assert handle.read() == 'two'
    assert oct(os.stat(path).st_mode & 0o777) == '0o644'
