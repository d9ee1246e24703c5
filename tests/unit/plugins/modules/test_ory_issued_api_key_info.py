"""Unit tests of ory_issued_api_key_info, plus the RETURN-vs-output check of the three Talos modules."""
from __future__ import annotations

import pytest
import yaml

from ansible_collections.ory.network.plugins.modules import ory_api_key_verify, ory_issued_api_key, ory_issued_api_key_info as module
from ansible_collections.ory.network.tests.unit.fake_transport import FakeResponse, install
from ansible_collections.ory.network.tests.unit.plugins.modules.talos_fake import BASE, OUTPUTS, SECRET_SHAPE, TalosFake, run_main


@pytest.fixture(name='talos')
def fixture_talos(monkeypatch):
    fake = TalosFake()
    install(monkeypatch, fake.api)
    return fake


def run(capsys, check_mode=False, **args):
    return run_main(module, args, capsys, check_mode=check_mode)


def ids(result):
    return [k['key_id'] for k in result['api_keys']]


def test_lists_every_page_without_secrets(talos, capsys):
    talos.page_limit = 2
    seeded = sorted(talos.seed(name='k%d' % i) for i in range(5))
    result = run(capsys)
    assert result['changed'] is False and ids(result) == seeded
    assert all('secret' not in k and 'days_to_expiry' in k for k in result['api_keys'])
    assert len([c for c in talos.api.calls if c[1] == BASE]) == 3


def test_key_id_found_and_not_found(talos, capsys):
    key_id = talos.seed(name='one')
    assert ids(run(capsys, key_id=key_id)) == [key_id]
    assert run(capsys, key_id='00000000-0000-4000-8000-000000000000')['api_keys'] == []


@pytest.mark.parametrize('status, wanted', [('active', ['a']), ('revoked', ['r']), ('expired', ['e']), ('any', ['a', 'e', 'r'])])
def test_status_filter(talos, capsys, status, wanted):
    names = {talos.seed(name='a'): 'a', talos.seed(name='r', status='KEY_STATUS_REVOKED'): 'r',
             talos.seed(name='e', expires_in=-60): 'e'}
    result = run(capsys, status=status)
    assert sorted(names[i] for i in ids(result)) == wanted
    assert 'filter' not in [c for c in talos.api.calls if c[1] == BASE][0][2]


def test_actor_and_status_go_to_the_server_filter(talos, capsys):
    mine = talos.seed(name='x', actor_id='svc')
    talos.seed(name='x', actor_id='svc', status='KEY_STATUS_REVOKED')
    talos.seed(name='x', actor_id='other')
    result = run(capsys, actor_id='svc', status='active', name='x')
    assert ids(result) == [mine]
    assert [c for c in talos.api.calls if c[1] == BASE][0][2]['filter'] == 'actor_id="svc" AND status=KEY_STATUS_ACTIVE'


def test_name_filter_and_days_to_expiry(talos, capsys):
    talos.seed(name='a', expires_in=10 * 86400 + 60)
    talos.seed(name='b')
    result = run(capsys, name='a')
    assert [k['name'] for k in result['api_keys']] == ['a'] and result['api_keys'][0]['days_to_expiry'] == 10


def test_check_mode_reads(talos, capsys):
    talos.seed(name='a')
    assert len(run(capsys, check_mode=True)['api_keys']) == 1


def test_api_error_fails_with_reason(talos, capsys):
    talos.api.fail_next('GET', BASE, FakeResponse(403, {'error': {'code': 403, 'status': 'PERMISSION_DENIED', 'message': 'nope',
                                                                  'details': [{'reason': 'FORBIDDEN'}]}}))
    result = run(capsys)
    assert result['failed'] is True and 'FORBIDDEN' in result['msg'] and result['status'] == 403


# ---------------------------------------------------------------- RETURN documentation matches real output


def documented(mod):
    return yaml.safe_load(mod.RETURN)


def check_against_return(result, spec, where):
    for name, value in result.items():
        if name in ('changed', 'failed', 'invocation', 'diff', 'warnings', 'deprecations'):
            continue
        assert name in spec, '%s: %s is returned but not documented' % (where, name)
        entry = spec[name]
        if isinstance(value, dict) and value and entry.get('contains'):
            check_against_return(value, entry['contains'], where + '.' + name)
        if isinstance(value, list) and value and isinstance(value[0], dict) and entry.get('contains'):
            for item in value:
                check_against_return(item, entry['contains'], where + '.' + name + '[]')
                assert set(entry['contains']) <= set(item), '%s.%s: documented keys missing' % (where, name)
    for name, entry in spec.items():
        if entry.get('returned') == 'always':
            assert name in result, '%s: %s is documented as always returned but missing' % (where, name)


def test_return_docs_match_output_of_issued_api_key(talos, capsys):
    spec = documented(ory_issued_api_key)
    results = [run_main(ory_issued_api_key, dict(name='doc', rate_limit={'quota': 1, 'window': '1s'}), capsys)]
    results.append(run_main(ory_issued_api_key, dict(name='doc', rotate='always'), capsys))
    results.append(run_main(ory_issued_api_key, dict(name='doc', state='absent'), capsys))
    results.append(run_main(ory_issued_api_key, dict(name='doc', state='absent'), capsys))
    for result in results:
        check_against_return(result, spec, 'ory_issued_api_key')
    assert set(spec['api_key']['contains']) == set(results[0]['api_key'])
    assert {'secret', 'old_key_id'} <= set(results[1])


def test_return_docs_match_output_of_info(talos, capsys):
    talos.seed(name='doc', rate_limit_policy={'quota': '3', 'window': '60s', 'unit': 'requests'})
    result = run(capsys)
    check_against_return(result, documented(module), 'ory_issued_api_key_info')
    assert set(documented(module)['api_keys']['contains']) == set(result['api_keys'][0])


def test_return_docs_match_output_of_verify(talos, capsys):
    spec = documented(ory_api_key_verify)
    issued = run_main(ory_issued_api_key, dict(name='doc'), capsys)
    for credential in (issued['secret'], 'ory_ak_v1_unknown_key'):
        result = run_main(ory_api_key_verify, dict(credential=credential), capsys)
        check_against_return(result, spec, 'ory_api_key_verify')


def test_no_secret_shaped_string_in_any_captured_output(talos, capsys):
    """Every output captured by run_main (here and in earlier tests of this process): secrets only under the secret key."""
    import json
    issued = run_main(ory_issued_api_key, dict(name='scan', actor_id='svc'), capsys, diff=True)
    rotated = run_main(ory_issued_api_key, dict(name='scan', actor_id='svc', rotate='always'), capsys, diff=True)
    run_main(ory_api_key_verify, dict(credential=issued['secret']), capsys)
    run_main(ory_api_key_verify, dict(credential=rotated['secret']), capsys)
    run(capsys, name='scan')
    run_main(ory_issued_api_key, dict(name='scan', actor_id='svc', state='absent'), capsys, diff=True)
    failed = run_main(ory_issued_api_key, dict(name='scan', project_api_key='ory_wak_' + 'Q' * 30), capsys)
    assert failed['failed'] is True
    for text in OUTPUTS:
        result = json.loads(text)
        result.pop('secret', None)
        assert not SECRET_SHAPE.search(json.dumps(result)), text
