"""Unit tests of ory_issued_api_key_info: main() against the emulator, in process."""
from __future__ import annotations

import pytest

from ansible_collections.ory.network.plugins.modules import ory_issued_api_key_info as module
from ansible_collections.ory.network.tests.unit.conftest import check_return_doc

BASE = '/v2alpha1/admin/issuedApiKeys'


def run(ory, run_main, check=False, **args):
    result, code = run_main(module, ory.talos_args(**args), check=check)
    if code == 0:
        assert result['changed'] is False and ory.writes() == []
        check_return_doc(module, result)
    return result


def ids(result):
    return [k['key_id'] for k in result['api_keys']]


def lists(ory):
    return [c for c in ory.calls if c.path.endswith(BASE)]


def test_lists_every_page_without_secrets(ory, run_main):
    seeded = [ory.issue(name='k%d' % i)[0]['key_id'] for i in range(1000)]
    ory.revoke(seeded[0])                                   # the quota counts active keys; the list shows revoked ones too
    seeded = sorted(seeded + [ory.issue(name='k1000')[0]['key_id']])   # one more than the largest page
    result = run(ory, run_main)
    assert sorted(ids(result)) == seeded
    assert all('secret' not in k and 'days_to_expiry' in k for k in result['api_keys'])
    assert len(lists(ory)) == 2 and lists(ory)[0].query['page_size'] == ['1000']


def test_key_id_found_and_not_found(ory, run_main):
    key_id = ory.issue(name='one')[0]['key_id']
    assert ids(run(ory, run_main, key_id=key_id)) == [key_id]
    assert run(ory, run_main, key_id='00000000-0000-4000-8000-000000000000')['api_keys'] == []


@pytest.mark.parametrize('status, wanted', [('active', ['a']), ('revoked', ['r']), ('expired', ['e']), ('any', ['a', 'e', 'r'])])
def test_status_filter(ory, run_main, status, wanted):
    names = {}
    for name in 'are':
        names[ory.issue(name=name)[0]['key_id']] = name
    by_name = dict((v, k) for k, v in names.items())
    ory.revoke(by_name['r'])
    ory.set_expiry(by_name['e'], -60)
    result = run(ory, run_main, status=status)
    assert sorted(names[i] for i in ids(result)) == wanted
    assert 'filter' not in lists(ory)[0].query


def test_actor_and_status_go_to_the_server_filter(ory, run_main):
    mine = ory.issue(name='x', actor_id='svc')[0]['key_id']
    ory.revoke(ory.issue(name='x', actor_id='svc')[0]['key_id'])
    ory.issue(name='x', actor_id='other')
    ory.forget_calls()
    result = run(ory, run_main, actor_id='svc', status='active', name='x')
    assert ids(result) == [mine]
    assert lists(ory)[0].query['filter'] == ['actor_id="svc" AND status=KEY_STATUS_ACTIVE']


def test_name_filter_and_days_to_expiry(ory, run_main):
    ory.issue(name='a', ttl='%ds' % (10 * 86400 + 60))
    ory.issue(name='b')
    result = run(ory, run_main, name='a')
    assert [k['name'] for k in result['api_keys']] == ['a'] and result['api_keys'][0]['days_to_expiry'] == 10


def test_check_mode_reads(ory, run_main):
    ory.issue(name='a')
    assert len(run(ory, run_main, check=True)['api_keys']) == 1


def test_api_error_fails_with_reason(ory, run_main):
    result = run(ory, run_main, project_slug='no-such-project')
    assert result['failed'] is True and result['status'] == 404 and 'no-such-project' in result['msg']


def test_server_error_after_retries_fails_with_status(ory, run_main):
    ory.fault(fault='status', status=500, endpoint='GET /v2alpha1/admin/issuedApiKeys', times=10)
    result = run(ory, run_main, retries=1)
    # a 500 on a read is retried (retries=1: two lists), then the task fails with the status
    assert result['failed'] is True and result['status'] == 500 and len(lists(ory)) == 2
