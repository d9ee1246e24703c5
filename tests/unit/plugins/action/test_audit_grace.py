"""The audit shows the keys waiting to be retired (issue 12): a key the vault file records as the ``previous`` key of a
variable (replaced by the bootstrap, kept live in its grace period) is flagged ``retiring`` with its retire-after time,
and is not reported as a lost secret, a duplicate or a key due for rotation."""
from __future__ import annotations

import datetime

from ansible_collections.ory.network.plugins.action.ory_api_key_audit import stored_secrets
from ansible_collections.ory.network.plugins.module_utils._audit import FLAG_NAMES, audit_environment, combine
from ansible_collections.ory.network.plugins.modules import ory_api_key_audit
from ansible_collections.ory.network.plugins.plugin_utils._report import COLOURS, render_html, render_markdown
from ansible_collections.ory.network.tests.unit.conftest import SECRET_RE, check_return_doc
from ansible_collections.ory.network.tests.unit.plugins.module_utils.test_audit import AT, talos, ts
from ansible_collections.ory.network.tests.unit.plugins.plugin_utils.test_engine_grace import (
    TALOS, WORKER, at_offset, first_run_25_days_ago, run, stored,
)

UNTIL = ts(1)


def previous(key_id, name, retire_after=UNTIL, when_used=False):
    return {'key_id': key_id, 'name': name, 'replaced_at': ts(-1), 'retire_after': retire_after, 'retire_when_used': when_used}


def grace_audit(at=AT, new_used=-1, when_used=False, retire_after=UNTIL):
    """An issued key 'worker' replaced a day ago: i-new stored (its secret in the vault file), i-old its previous key."""
    planes = {'issued': [talos('i-old', 'prod:worker', 10), talos('i-new', 'prod:worker', 40, used=new_used, created=-1)]}
    stored = [{'var': 'ory_issued_api_key_worker', 'key_id': 'i-new', 'name': 'prod:worker',
               'previous': previous('i-old', 'prod:worker', retire_after, when_used)}]
    declared = [{'plane': 'issued', 'name': 'worker', 'rotate_before': '30d'}]
    return audit_environment('prod', planes, stored, declared, at)


def rows(result):
    return dict((r['id'], r) for r in result['api_keys'])


def test_a_previous_key_is_flagged_retiring_with_its_retire_after_time():
    result = grace_audit()
    old, new = rows(result)['i-old'], rows(result)['i-new']
    assert old['flags'] == ['retiring', 'expiring']          # not no_stored_secret, duplicate_name or rotate_due
    assert (old['previous_of'], old['retire_after'], old['retire_due']) == ('ory_issued_api_key_worker', UNTIL, False)
    assert new['flags'] == [] and new['stored'] and new['previous_of'] is None and new['retire_after'] is None
    assert result['flags']['retiring'] == {'title': 'Replaced, kept live until retired (grace period)', 'count': 1,
                                           'keys': [old['label']]}


def test_retire_due_follows_the_planners_rule():
    assert rows(grace_audit(at=AT + datetime.timedelta(days=2)))['i-old']['retire_due'] is True
    # retire_when_used: due once the successor shows a last_used_time
    assert rows(grace_audit(new_used=None, when_used=True, retire_after=None))['i-old']['retire_due'] is False
    assert rows(grace_audit(new_used=-1, when_used=True, retire_after=None))['i-old']['retire_due'] is True


def test_without_the_record_the_same_keys_are_a_lost_secret_and_duplicates():
    planes = {'issued': [talos('i-old', 'prod:worker', 10), talos('i-new', 'prod:worker', 40)]}
    result = audit_environment('prod', planes, [{'var': 'v', 'key_id': 'i-new'}], [], AT)
    assert rows(result)['i-old']['flags'] == ['expiring', 'no_stored_secret', 'duplicate_name']
    assert rows(result)['i-old']['previous_of'] is None


def test_a_previous_key_that_is_gone_or_revoked_is_not_retiring():
    planes = {'issued': [talos('i-old', 'prod:worker', 10, status='KEY_STATUS_REVOKED', updated=-1), talos('i-new', 'prod:worker', 40)]}
    stored_list = [{'var': 'v', 'key_id': 'i-new', 'previous': previous('i-old', 'prod:worker')}]
    result = audit_environment('prod', planes, stored_list, [], AT)
    assert rows(result)['i-old']['flags'] == [] and rows(result)['i-old']['retire_after'] is None


def test_reports_show_the_retiring_key_and_until_when():
    report = combine([grace_audit()])
    assert set(COLOURS) >= set(FLAG_NAMES)
    markdown = render_markdown(report)
    page = render_html(report)
    for text in (markdown, page):
        assert 'previous of ory_issued_api_key_worker, until %s' % UNTIL in text
    assert 'Replaced, kept live until retired (grace period)' in page


def test_the_action_passes_the_previous_record_and_no_secret():
    data = {'ory_issued_api_key_worker': 'ory_ak_v1_secretsecretsecret',
            'ory_issued_api_key_worker_meta': {'key_id': 'i-new', 'name': 'prod:worker', 'expires_at': None, 'stored_at': 'x',
                                               'previous': dict(previous('i-old', 'prod:worker'), secret='ory_ak_v1_oldsecret')},
            'ory_project_api_key_talos': 'ory_pat_x', 'ory_project_api_key_talos_meta': {'key_id': 'p1', 'name': 'prod:talos'}}
    out = stored_secrets(data)
    assert out[0] == {'var': 'ory_issued_api_key_worker', 'key_id': 'i-new', 'name': 'prod:worker', 'expires_at': None,
                      'previous': previous('i-old', 'prod:worker')}
    assert 'previous' not in out[1]
    assert 'secret' not in repr(out)


def test_after_a_rotation_with_a_grace_period_the_audit_shows_both_keys(ory, tmp_path, run_main):
    """The engine rotates with retire_after 24h; the audit module (main(), its RETURN checked) reads that vault file."""
    path = tmp_path / 'vault.yml'
    before = first_run_25_days_ago(ory, path)
    run(ory, path)
    after = stored(path)
    args = dict(ory.connection(environment='ci', vault_file=str(path), stored_secrets=stored_secrets(after)),
                declared_issued_api_keys=[{'name': 'worker', 'rotate_before': '7d'}])
    result, code = run_main(ory_api_key_audit, args)
    assert code == 0, result.get('msg')
    check_return_doc(ory_api_key_audit, result)
    assert not SECRET_RE.search(repr(result))
    by_id = rows(result['audit'])
    for var in (TALOS, WORKER):
        old = by_id[before[var + '_meta']['key_id']]
        assert 'retiring' in old['flags'] and 'no_stored_secret' not in old['flags'] and 'duplicate_name' not in old['flags']
        assert old['previous_of'] == var and old['retire_after'] == after[var + '_meta']['previous']['retire_after']
        assert old['retire_due'] is False
        assert by_id[after[var + '_meta']['key_id']]['stored'] is True
    # a day and a bit later the audit says the next run retires them
    at_offset(ory, 25 * 3600)
    later = datetime.datetime.fromtimestamp(ory.now(), datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    result, code = run_main(ory_api_key_audit, dict(args, audit_time=later))
    assert code == 0, result.get('msg')
    assert [r['retire_due'] for r in result['audit']['api_keys'] if 'retiring' in r['flags']] == [True, True]
