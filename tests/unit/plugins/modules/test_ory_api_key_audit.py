"""Unit tests of ory_api_key_audit: main() against the in-process emulator (all four planes, read-only)."""
from __future__ import annotations

import requests

from ansible_collections.ory.network.plugins.modules import ory_api_key_audit as module
from ansible_collections.ory.network.tests.unit.emulator_live import fixture_live, run_main  # pylint: disable=unused-import


def console(live, method, path, **kwargs):
    headers = {'Authorization': 'Bearer ' + live.info['workspace_api_key']}
    return requests.request(method, live.info['console_url'] + path, headers=headers, timeout=30, **kwargs)


def test_audit_reads_every_plane_and_writes_nothing(live, capsys):
    project = live.info['project_id']
    made = console(live, 'POST', '/projects/%s/tokens' % project, json={'name': 'prod:talos'}).json()
    issued = live.talos('POST', '/v2alpha1/admin/issuedApiKeys', json={
        'name': 'prod:checkout', 'actor_id': 'svc', 'ttl': '5d', 'metadata': {'managed_by': 'ory.network', 'environment': 'prod'}}).json()
    live.talos('POST', '/v2alpha1/admin/issuedApiKeys', json={'name': 'by-hand', 'actor_id': 'svc', 'ttl': '90d'})
    live.talos('POST', '/v2alpha1/admin/importedApiKeys', json={'raw_key': 'legacy-abc', 'name': 'legacy', 'actor_id': 'partner'})
    live.reset_stats()
    args = dict(environment='prod', workspace_id=live.info['workspace_id'], vault_file='/nonexistent/vault.yml',
                stored_secrets=[{'var': 'ory_project_api_key_talos', 'key_id': made['id']},
                                {'var': 'ory_issued_api_key_checkout', 'key_id': issued['issued_api_key']['key_id']}],
                declared_issued_api_keys=[{'name': 'checkout', 'rotate_before': '7d', 'actor_id': 'svc', 'ttl': '30d'}])
    result = run_main(module, args, capsys, live.connection, check_mode=True, hidden=[made['value'], issued['secret']])
    audit = result['audit']
    assert result['changed'] is False and audit['planes_read'] == ['imported', 'issued', 'project', 'workspace']
    assert all(endpoint.startswith('GET ') for endpoint in live.stats()['requests'])
    labels = dict(((r['plane'], r['name']), r) for r in audit['api_keys'])
    assert labels[('issued', 'prod:checkout')]['flags'] == ['rotate_due', 'expiring']
    assert labels[('issued', 'prod:checkout')]['stored'] is True
    assert 'unmarked' in labels[('issued', 'by-hand')]['flags'] and 'no_stored_secret' in labels[('issued', 'by-hand')]['flags']
    assert labels[('imported', 'legacy')]['flags'] == ['expiring', 'unmarked']   # default 7d lifetime; imported today: not "never used" yet
    assert labels[('project', 'emulator-seed')]['flags'] == ['no_stored_secret', 'unmarked', 'no_expiry']
    assert ('workspace', 'emulator-seed') in labels
    assert audit['flags']['unmarked']['count'] == 3


def test_planes_without_credentials_are_not_read(live, capsys):
    connection = dict(live.connection, project_api_key=None, workspace_api_key=None)
    result = run_main(module, dict(environment='x'), capsys, connection)
    assert result['audit']['planes_read'] == [] and result['audit']['api_keys'] == []
    assert live.stats()['total'] == 0


def test_bad_threshold_fails_with_the_option_name(live, capsys):
    result = run_main(module, dict(environment='x', expiring_within='soon'), capsys, live.connection)
    assert result['failed'] is True and 'expiring_within' in result['msg']
