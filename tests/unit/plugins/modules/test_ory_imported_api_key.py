"""Unit tests of ory_imported_api_key and ory_imported_api_key_info: main() against the in-process emulator."""
from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from ansible_collections.ory.network.plugins.modules import ory_imported_api_key as module, ory_imported_api_key_info as info
from ansible_collections.ory.network.tests.unit.emulator_live import fixture_live, run_main  # pylint: disable=unused-import

IMPORTED = '/v2alpha1/admin/importedApiKeys'


def raw():
    return 'legacy_%s' % uuid.uuid4().hex


def run(live, capsys, mod=module, check_mode=False, diff=False, **args):
    hidden = [v for k, v in args.items() if k == 'raw_key'] + [k['raw_key'] for k in args.get('keys') or [] if isinstance(k, dict) and 'raw_key' in k]
    return run_main(mod, args, capsys, live.connection, check_mode=check_mode, diff=diff, hidden=hidden)


def writes(live):
    return sum(n for endpoint, n in live.stats()['requests'].items() if not endpoint.startswith('GET '))


def test_key_id_is_the_hash_ory_computes(live, capsys):
    raw_key = raw()
    result = run(live, capsys, raw_key=raw_key, name='legacy', actor_id='svc')
    expected = hashlib.new('sha512_256', (live.info['project_id'] + '\x00' + raw_key).encode()).hexdigest()
    assert result['changed'] is True and result['key_id'] == expected == result['api_key']['key_id']
    assert live.talos('GET', IMPORTED + '/' + expected).json()['name'] == 'legacy'


def test_import_check_real_idempotent(live, capsys):
    args = dict(raw_key=raw(), name='partner', actor_id='partner-x', scopes=['read'], ttl='30d', metadata={'source': 'legacy'})
    check = run(live, capsys, check_mode=True, diff=True, **args)
    assert check['changed'] is True and check['api_key']['status'] == 'KEY_STATUS_ACTIVE'
    assert live.talos('GET', IMPORTED).json()['imported_api_keys'] == []
    real = run(live, capsys, **args)
    assert real['changed'] is True and real['api_key']['scopes'] == ['read'] and real['api_key']['days_to_expiry'] in (29, 30)
    live.reset_stats()
    again = run(live, capsys, check_mode=True, **args)
    again = run(live, capsys, **args)
    assert again['changed'] is False and writes(live) == 0
    assert live.stats()['total'] == 2   # one GET by computed key id per run


def test_mutable_changes_are_patched_immutable_ones_refused(live, capsys):
    raw_key = raw()
    run(live, capsys, raw_key=raw_key, name='a', actor_id='svc', scopes=['r'])
    changed = run(live, capsys, diff=True, raw_key=raw_key, name='b', actor_id='svc', scopes=['r', 'w'])
    assert changed['changed'] is True and changed['api_key']['name'] == 'b' and changed['api_key']['scopes'] == ['r', 'w']
    assert changed['diff']['before']['name'] == 'a'
    refused = run(live, capsys, raw_key=raw_key, name='b', actor_id='other')
    assert refused['failed'] is True and 'actor_id' in refused['msg'] and 'cannot be changed' in refused['msg']


def test_revoked_then_absent(live, capsys):
    raw_key = raw()
    key_id = run(live, capsys, raw_key=raw_key, name='r', actor_id='svc')['key_id']
    assert run(live, capsys, check_mode=True, key_id=key_id, state='revoked')['changed'] is True
    assert live.talos('GET', IMPORTED + '/' + key_id).json()['status'] == 'KEY_STATUS_ACTIVE'
    revoked = run(live, capsys, raw_key=raw_key, state='revoked', revoke_reason='key_compromise')
    assert revoked['changed'] is True and revoked['api_key']['status'] == 'KEY_STATUS_REVOKED'
    assert run(live, capsys, key_id=key_id, state='revoked')['changed'] is False
    present = run(live, capsys, raw_key=raw_key, name='r', actor_id='svc')
    assert present['failed'] is True and 'revoked' in present['msg']
    assert run(live, capsys, key_id=key_id, state='absent')['changed'] is True
    assert live.talos('GET', IMPORTED + '/' + key_id).status_code == 404
    assert run(live, capsys, key_id=key_id, state='absent')['changed'] is False
    assert run(live, capsys, raw_key=raw_key, name='r', actor_id='svc')['changed'] is True   # importable again


@pytest.mark.parametrize('args, words', [
    (dict(raw_key='ory_ak_v1_4jKq_4jKq', name='n', actor_id='a'), 'issued'),
    (dict(raw_key='eyJa.eyJb.c', name='n', actor_id='a'), 'JWT'),
    (dict(raw_key='x', actor_id='a'), 'name is required'),
    (dict(raw_key='x', name='n', actor_id='a', project_id='emulated-project'), 'UUID'),
    (dict(name='n'), 'raw_key is required'),
    (dict(key_id='abc', state='absent'), '64'),
])
def test_bad_input_fails_before_any_request(live, capsys, args, words):
    result = run(live, capsys, **args)
    assert result['failed'] is True and words in result['msg']
    assert live.stats()['total'] == 0


def test_bulk_import_batches_and_is_idempotent(live, capsys):
    live.admin('PATCH', '/projects/' + live.info['project_slug'], json={'key_quota': 5000})
    keys = [{'raw_key': raw(), 'name': 'k%d' % i, 'actor_id': 'svc'} for i in range(25)]
    payload = json.dumps(keys)
    check = run(live, capsys, check_mode=True, keys_payload=payload, batch_size=10)
    assert check['changed'] is True and check['summary']['imported'] == 25 and writes(live) == 0
    live.reset_stats()
    first = run(live, capsys, keys_payload=payload, batch_size=10)
    assert first['summary'] == {'total': 25, 'imported': 25, 'updated': 0, 'unchanged': 0, 'failed': 0}
    assert live.stats()['requests'] == {'GET /v2alpha1/admin/importedApiKeys': 1, 'POST /v2alpha1/admin/importedApiKeys:batchCreate': 3}
    assert payload not in json.dumps(first) and keys[0]['raw_key'] not in json.dumps(first)
    live.reset_stats()
    again = run(live, capsys, keys_payload=payload)
    assert again['changed'] is False and again['summary']['unchanged'] == 25 and writes(live) == 0


def test_bulk_reports_each_failure_and_imports_the_rest(live, capsys):
    taken = raw()
    run(live, capsys, raw_key=taken, name='taken', actor_id='first-owner')
    keys = [{'raw_key': raw(), 'name': 'ok', 'actor_id': 'svc'},
            {'raw_key': raw(), 'name': 'no-actor'},
            {'raw_key': taken, 'name': 'taken', 'actor_id': 'someone-else'},
            {'raw_key': 'ory_ak_v1_abc_def', 'name': 'issued-shape', 'actor_id': 'svc'},
            {'raw_key': raw(), 'name': 'ok2', 'actor_id': 'svc', 'ttl': '0s'}]
    result = run(live, capsys, keys=keys)
    assert result['failed'] is True and '4 of 5' in result['msg']
    assert [f['index'] for f in result['failures']] == [1, 2, 3, 4]
    assert result['summary']['imported'] == 1
    assert all(k['raw_key'] not in json.dumps(result) for k in keys)
    lenient = run(live, capsys, keys=keys, fail_on_key_errors=False)
    assert 'failed' not in lenient and lenient['summary']['unchanged'] == 1 and lenient['warnings']


def test_batch_failure_from_the_server_is_per_key(live, capsys):
    live.admin('PATCH', '/projects/' + live.info['project_slug'], json={'key_quota': 1})
    result = run(live, capsys, keys=[{'raw_key': raw(), 'name': 'q%d' % i, 'actor_id': 'svc'} for i in range(3)], fail_on_key_errors=False)
    assert result['summary']['imported'] == 1 and result['summary']['failed'] == 2
    assert all('RESOURCE_EXHAUSTED' in f['error'] for f in result['failures'])


def test_info_lists_and_finds_by_raw_key(live, capsys):
    raw_key = raw()
    key_id = run(live, capsys, raw_key=raw_key, name='i', actor_id='svc-info')['key_id']
    run(live, capsys, raw_key=raw(), name='j', actor_id='other')
    listed = run(live, capsys, mod=info, actor_id='svc-info')
    assert [k['key_id'] for k in listed['api_keys']] == [key_id] and listed['changed'] is False
    found = run(live, capsys, mod=info, raw_key=raw_key, status='active')
    assert [k['name'] for k in found['api_keys']] == ['i']
    assert run(live, capsys, mod=info, key_id=key_id, status='revoked')['api_keys'] == []
    assert len(run(live, capsys, mod=info)['api_keys']) == 2


def test_add_metadata_marks_every_key_and_stays_idempotent(live, capsys):
    keys = [{'raw_key': raw(), 'name': 'm', 'actor_id': 'svc', 'metadata': {'team': 'a'}}, {'raw_key': raw(), 'name': 'n', 'actor_id': 'svc'}]
    marker = {'managed_by': 'ory.network', 'environment': 'prod'}
    assert run(live, capsys, keys=keys, add_metadata=marker)['summary']['imported'] == 2
    listed = live.talos('GET', IMPORTED).json()['imported_api_keys']
    assert sorted(json.dumps(k['metadata'], sort_keys=True) for k in listed) == sorted(
        [json.dumps(dict(marker, team='a'), sort_keys=True), json.dumps(marker, sort_keys=True)])
    live.reset_stats()
    assert run(live, capsys, keys=keys, add_metadata=marker)['changed'] is False and writes(live) == 0
    assert run(live, capsys, keys=keys, add_metadata=dict(marker, environment='stage'))['summary']['updated'] == 2
