# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 12: a replaced key stays live as the vault variable's ``previous`` key until one of its retire triggers holds
(retire_after passed on Ory Network's clock, retire_previous, or the new key's first use), through the engine and the
emulator in this process. Time is moved with the emulator's clock; the engine's own clock follows it."""
from __future__ import annotations

import datetime

from ansible.parsing.vault import VaultSecret

from ansible_collections.ory.network.plugins.modules import ory_api_key_bootstrap
from ansible_collections.ory.network.plugins.plugin_utils._bootstrap import Engine
from ansible_collections.ory.network.plugins.plugin_utils._vault_store import VaultFile
from ansible_collections.ory.network.tests.unit.conftest import SECRET_RE, check_return_doc

VAULT_SECRETS = [('default', VaultSecret(b'engine-grace-test'))]
DAY = 86400
TALOS, WORKER = 'ory_project_api_key_talos', 'ory_issued_api_key_worker'


def at_offset(ory, seconds):
    ory.state.data['clock_offset'] = int(seconds)


def params(ory, **extra):
    base = dict(ory.connection(), environment='ci', name_prefix=None,
                project_api_keys=[dict(name='talos', expires_in='30d', rotate_before='7d')],
                issued_api_keys=[dict(name='worker', actor_id='svc-worker', ttl='30d', rotate_before='7d')],
                imported_api_keys=[], talos_key='talos', vault_dest=None, vault_id=None, on_missing_secret='rotate',
                verify='stored', prune=False, retire_after='24h', retire_previous=False, retire_when_used=False)
    base.pop('project_api_key')
    base.update(extra)
    return base


def run(ory, path, check_mode=False, **extra):
    def clock():
        return datetime.datetime.fromtimestamp(ory.now(), datetime.timezone.utc)
    shown = []
    ory.forget_calls()
    result = Engine(params(ory, **extra), str(path), VAULT_SECRETS, check_mode=check_mode, report=shown.append, clock=clock).run()
    for line in shown + result['summary']:
        assert not SECRET_RE.search(line), line
    check_return_doc(ory_api_key_bootstrap, result)
    return result


def stored(path):
    vault = VaultFile(str(path), VAULT_SECRETS, check_mode=True).open()
    try:
        return dict(vault.data)
    finally:
        vault.close()


def actions(result):
    return sorted((row['plane'], row['action']) for row in result['api_keys'])


def first_run_25_days_ago(ory, path):
    at_offset(ory, -25 * DAY)
    result = run(ory, path)
    assert actions(result) == [('issued', 'create'), ('project', 'create')]
    at_offset(ory, 0)
    return stored(path)


def test_a_rotation_with_a_grace_period_keeps_the_old_keys_until_retire_after(ory, tmp_path):
    path = tmp_path / 'vault.yml'
    before = first_run_25_days_ago(ory, path)

    rotated = run(ory, path)
    assert actions(rotated) == [('issued', 'grace'), ('issued', 'replace'), ('project', 'grace'), ('project', 'replace')]
    after = stored(path)
    for var in (TALOS, WORKER):
        previous = after[var + '_meta']['previous']
        assert previous['key_id'] == before[var + '_meta']['key_id'] != after[var + '_meta']['key_id']
        assert set(previous) == {'key_id', 'name', 'replaced_at', 'retire_after', 'retire_when_used'}
        replaced = datetime.datetime.fromisoformat(previous['replaced_at'].replace('Z', '+00:00'))
        until = datetime.datetime.fromisoformat(previous['retire_after'].replace('Z', '+00:00'))
        assert until - replaced == datetime.timedelta(hours=24)
        assert before[var] not in repr(after[var + '_meta'])
    # both old secrets still work: the project key is live, the issued key verifies
    assert len(ory.project_keys('ci:talos')) == 2
    assert ory.verify(before[WORKER])['is_valid'] and ory.verify(after[WORKER])['is_valid']
    assert sorted(k['plane'] for k in rotated['previous_keys']) == ['issued', 'project']
    assert all(k['retire_after'] and 'grace period' in k['reason'] for k in rotated['previous_keys'])
    assert any('kept live (grace period)' in line for line in rotated['summary'])

    # within the grace period: nothing changes, nothing is written, the previous keys are still shown
    again = run(ory, path)
    assert not again['changed'] and not ory.writes() and not again['vault']['changed']
    assert len(again['previous_keys']) == 2

    # a day and a bit later (Ory Network's clock): the previous keys are retired and their records dropped
    at_offset(ory, 25 * 3600)
    retired = run(ory, path)
    assert retired['changed']
    assert actions(retired) == [('issued', 'none'), ('issued', 'retire'), ('project', 'none'), ('project', 'retire')]
    assert [row['reason'] for row in retired['api_keys'] if row['action'] == 'retire'] == \
        ['previous key, its grace period ended at %s' % after[TALOS + '_meta']['previous']['retire_after'] + ': deleted',
         'previous key, its grace period ended at %s' % after[WORKER + '_meta']['previous']['retire_after'] + ': revoked']
    assert [k['id'] for k in ory.project_keys('ci:talos')] == [after[TALOS + '_meta']['key_id']]
    assert ory.verify(before[WORKER])['error_code'] == 'VERIFICATION_ERROR_REVOKED'
    final = stored(path)
    assert 'previous' not in final[TALOS + '_meta'] and 'previous' not in final[WORKER + '_meta']
    assert final[WORKER] == after[WORKER] and final[TALOS] == after[TALOS]
    assert not retired['previous_keys']

    quiet = run(ory, path)
    assert not quiet['changed'] and not ory.writes() and not quiet['vault']['changed']


def test_retire_previous_retires_at_once_and_check_mode_shows_it(ory, tmp_path):
    path = tmp_path / 'vault.yml'
    first_run_25_days_ago(ory, path)
    # check mode shows the grace period and writes nothing
    preview = run(ory, path, check_mode=True)
    assert actions(preview) == [('issued', 'grace'), ('issued', 'replace'), ('project', 'grace'), ('project', 'replace')]
    assert not ory.writes()
    run(ory, path)
    middle = stored(path)

    preview = run(ory, path, check_mode=True, retire_previous=True)
    assert actions(preview) == [('issued', 'none'), ('issued', 'retire'), ('project', 'none'), ('project', 'retire')]
    assert not ory.writes() and stored(path) == middle

    done = run(ory, path, retire_previous=True)
    assert [row['reason'] for row in done['api_keys'] if row['action'] == 'retire'] == \
        ['previous key, retired by retire_previous: deleted', 'previous key, retired by retire_previous: revoked']
    assert len(ory.project_keys('ci:talos')) == 1
    assert not run(ory, path, retire_previous=True)['changed'], 'nothing is left to retire'


def test_without_a_grace_period_the_old_keys_go_in_the_same_run(ory, tmp_path):
    path = tmp_path / 'vault.yml'
    before = first_run_25_days_ago(ory, path)
    result = run(ory, path, retire_after=None)
    assert actions(result) == [('issued', 'replace'), ('project', 'replace')]
    assert ory.verify(before[WORKER])['error_code'] == 'VERIFICATION_ERROR_REVOKED'
    assert len(ory.project_keys('ci:talos')) == 1
    assert 'previous' not in stored(path)[WORKER + '_meta']


def test_a_lost_secret_is_never_kept_as_previous(ory, tmp_path):
    path = tmp_path / 'vault.yml'
    at_offset(ory, 0)
    run(ory, path)
    old_id = stored(path)[WORKER + '_meta']['key_id']
    vault = VaultFile(str(path), VAULT_SECRETS).open()
    vault.data.pop(WORKER)
    vault.pending.append(WORKER)
    vault.flush()
    vault.close()
    result = run(ory, path)
    assert actions(result) == [('issued', 'rotate'), ('project', 'none')]
    assert ory.issued_key(old_id)['status'] == 'KEY_STATUS_REVOKED', 'nobody holds its secret: no grace period'
    assert 'previous' not in stored(path)[WORKER + '_meta'] and not result['previous_keys']


def test_retire_when_used_waits_for_the_new_keys_first_use(ory, tmp_path):
    path = tmp_path / 'vault.yml'
    first_run_25_days_ago(ory, path)
    rotated = run(ory, path, retire_after=None, retire_when_used=True, verify='all')
    # project keys have no last use: without retire_after they are retired at once; the issued key waits
    assert actions(rotated) == [('issued', 'grace'), ('issued', 'replace'), ('project', 'replace')]
    new = stored(path)
    previous = new[WORKER + '_meta']['previous']
    assert previous['retire_when_used'] and previous['retire_after'] is None
    assert ory.issued_key(new[WORKER + '_meta']['key_id']).get('last_used_time') is None, \
        'the engine does not verify a key whose first use retires its predecessor'
    waiting = run(ory, path, retire_after=None, retire_when_used=True, verify='all')
    assert not waiting['changed'] and 'until the new key is first used' in waiting['previous_keys'][0]['reason']

    assert ory.verify(new[WORKER])['is_valid']  # a service uses the new secret
    used = run(ory, path, retire_after=None, retire_when_used=True)
    assert [row['reason'] for row in used['api_keys'] if row['action'] == 'retire'][0].startswith(
        'previous key, the new key %s was used at ' % new[WORKER + '_meta']['key_id'])
    assert ory.issued_key(previous['key_id'])['status'] == 'KEY_STATUS_REVOKED'


def test_retire_when_used_on_a_project_key_is_refused(ory, tmp_path):
    import pytest
    from ansible_collections.ory.network.plugins.plugin_utils._bootstrap import EngineError
    with pytest.raises(EngineError, match='retire_when_used applies to issued keys only'):
        run(ory, tmp_path / 'vault.yml', project_api_keys=[dict(name='talos', retire_when_used=True)])
    assert not ory.writes()
