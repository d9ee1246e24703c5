"""The decision engine, row by row: the table "What it decides, per key" of roles/api_key_bootstrap/README.md.

Each row of that table is one or more cases below (situation -> action, and words of the reason). The planner
is pure, so each case is data: declared keys, live keys, the vault file's (secret-free) view and the time.
"""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.ory.network.plugins.module_utils._planner import (
    PlanError, embedded_key_id, failures, parse_declarations, plan_plane, stored_view,
)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2027, 1, 1, tzinfo=UTC)
ENV = 'staging'
PREFIX = 'staging:'
MARK = {'managed_by': 'ory.network', 'environment': ENV}


def iso(days):
    return (NOW + datetime.timedelta(days=days)).strftime('%Y-%m-%dT%H:%M:%SZ')


def b58(data):
    alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
    number, out = int.from_bytes(data, 'big'), ''
    while number:
        number, rem = divmod(number, 58)
        out = alphabet[rem] + out
    return out


def ak_secret(key_id):
    """An ory_ak_v1 secret with key_id inside (the checksum part is not checked offline)."""
    return 'ory_ak_v1_%s_%s' % (b58(('1790000000:%s' % key_id).encode()), 'Checksum')


def uuid(n):
    return '00000000-0000-4000-8000-%012d' % n


def pkey(n, name='talos', expires=90, **extra):
    key = {'id': uuid(n), 'name': PREFIX + name, 'expires_at': iso(expires) if expires is not None else None,
           'created_at': iso(-1), 'last_characters': 'abcd'}
    key.update(extra)
    return key


def ikey(n, name='billing', expires=30, marked=True, **extra):
    key = {'key_id': uuid(n), 'name': PREFIX + name, 'actor_id': 'svc-billing', 'scopes': ['invoices:read'],
           'metadata': dict(MARK) if marked else {}, 'status': 'KEY_STATUS_ACTIVE', 'expire_time': iso(expires),
           'rate_limit_policy': None, 'ip_restriction': {'allowed_cidrs': []}}
    key.update(extra)
    return key


def vault(**entries):
    """vault(talos=1) stores project key 1 as talos; ('issued', n) an issued secret of key n; ('other', n, m): meta n, secret of m."""
    data = {}
    for name, spec in entries.items():
        plane, n = spec[0], spec[1]
        var = 'ory_%s_api_key_%s' % (plane, name)
        secret_of = spec[2] if len(spec) > 2 else n
        data[var] = ak_secret(uuid(secret_of)) if plane == 'issued' else 'ory_pat_secretsecret%04d' % n
        data[var + '_meta'] = {'key_id': uuid(n), 'name': PREFIX + name}
    return stored_view(data)


PROJECT = [{'name': 'talos', 'expires_in': '90d', 'rotate_before': '14d'}]
ISSUED = [{'name': 'billing', 'actor_id': 'svc-billing', 'scopes': ['invoices:read'], 'ttl': '30d', 'rotate_before': '7d'}]


def plan(plane, live, view, declared=None, on_missing='rotate', prune=False):
    if plane == 'project':
        decls = parse_declarations(ENV, PREFIX, PROJECT if declared is None else declared, [], at=NOW)[0]
    else:
        decls = parse_declarations(ENV, PREFIX, [], ISSUED if declared is None else declared, at=NOW)[1]
    return plan_plane(plane, decls, live, view, NOW, ENV, PREFIX, on_missing, prune)


def summary(steps):
    return [(s.action, s.key_id) for s in steps]


# (row of the README table, plane, live keys, vault view, declared (None: default), on_missing, prune,
#  expected [(action, key id)], words in the first reason)
ROWS = [
    ('no live key with the name: create', 'project', [], {}, None, 'rotate', False,
     [('create', None)], 'new key'),
    ('no live key with the name: issue', 'issued', [], {}, None, 'rotate', False,
     [('create', None)], 'new key'),
    ('secret and key id stored, nothing differs: nothing', 'project', [pkey(1)], vault(talos=('project', 1)), None, 'rotate', False,
     [('none', uuid(1))], 'up to date'),
    ('issued: secret and key id stored, nothing differs: nothing', 'issued', [ikey(1)], vault(billing=('issued', 1)), None, 'rotate', False,
     [('none', uuid(1))], 'up to date'),
    ('project key expires within rotate_before: replace', 'project', [pkey(1, expires=10)], vault(talos=('project', 1)), None, 'rotate',
     False, [('replace', uuid(1))], 'within rotate_before 14d'),
    ('issued key expires within rotate_before: replace', 'issued', [ikey(1, expires=3)], vault(billing=('issued', 1)), None, 'rotate',
     False, [('replace', uuid(1))], 'within rotate_before 7d'),
    ('project key has expired: replace (a new key, the expired one deleted)', 'project', [pkey(1, expires=-1)],
     vault(talos=('project', 1)), None, 'rotate', False, [('create', None), ('retire', uuid(1))], 'expired'),
    ('issued key has expired: a new key', 'issued', [ikey(1, expires=-1, status='KEY_STATUS_EXPIRED')], vault(billing=('issued', 1)),
     None, 'rotate', False, [('create', None)], 'expired'),
    ('lost secret, issued key, no secret stored: rotate', 'issued', [ikey(1)], {}, None, 'rotate', False,
     [('rotate', uuid(1))], 'lost secret: the vault file holds no secret'),
    ('lost secret, issued key, stored for another key id: rotate', 'issued', [ikey(1)], vault(billing=('issued', 2)), None, 'rotate',
     False, [('rotate', uuid(1))], 'holds the secret of key %s, not of %s' % (uuid(2), uuid(1))),
    ('lost secret, issued key, metadata names another key than the secret (offline check): rotate', 'issued', [ikey(1)],
     vault(billing=('issued', 9, 1)), None, 'rotate', False, [('rotate', uuid(1))], 'the stored secret belongs to key %s' % uuid(1)),
    ('lost secret and expiring, issued key: replace (fresh ttl)', 'issued', [ikey(1, expires=2)], {}, None, 'rotate', False,
     [('replace', uuid(1))], 'lost secret'),
    ('lost secret, project key: replace', 'project', [pkey(1)], {}, None, 'rotate', False,
     [('replace', uuid(1))], 'lost secret'),
    ('lost secret, project key stored for another id: replace', 'project', [pkey(1)], vault(talos=('project', 2)), None, 'rotate', False,
     [('replace', uuid(1))], 'holds the secret of key %s' % uuid(2)),
    ('lost secret with on_missing_secret=fail: stop', 'issued', [ikey(1)], {}, None, 'fail', False,
     [('fail', uuid(1))], 'lost secret'),
    ('lost secret with on_missing_secret=fail, project: stop', 'project', [pkey(1)], {}, None, 'fail', False,
     [('fail', uuid(1))], 'lost secret'),
    ('issued: scopes differ: update in place', 'issued', [ikey(1, scopes=['other'])], vault(billing=('issued', 1)), None, 'rotate', False,
     [('update', uuid(1))], 'scopes changed'),
    ('issued: metadata differs: update in place', 'issued', [ikey(1, metadata=dict(MARK, team='x'))], vault(billing=('issued', 1)), None,
     'rotate', False, [('update', uuid(1))], 'metadata changed'),
    ('issued: ip_allowlist differs: update in place', 'issued', [ikey(1)], vault(billing=('issued', 1)),
     [dict(ISSUED[0], ip_allowlist=['10.0.0.0/8'])], 'rotate', False, [('update', uuid(1))], 'ip_allowlist changed'),
    ('issued: the same CIDRs written differently: nothing (one CIDR comparison)', 'issued',
     [ikey(1, ip_restriction={'allowed_cidrs': ['10.0.0.0/8']})], vault(billing=('issued', 1)),
     [dict(ISSUED[0], ip_allowlist=['10.1.2.3/8'])], 'rotate', False, [('none', uuid(1))], 'up to date'),
    ('issued: rate_limit differs: update in place', 'issued', [ikey(1)], vault(billing=('issued', 1)),
     [dict(ISSUED[0], rate_limit={'quota': 10, 'window': '1m'})], 'rotate', False, [('update', uuid(1))], 'rate_limit_policy changed'),
    ('issued: the same rate limit in other units: nothing (one duration parser)', 'issued',
     [ikey(1, rate_limit_policy={'quota': '10', 'window': '60s', 'unit': 'requests'})], vault(billing=('issued', 1)),
     [dict(ISSUED[0], rate_limit={'quota': 10, 'window': '1m'})], 'rotate', False, [('none', uuid(1))], 'up to date'),
    ('issued: actor_id differs: replace', 'issued', [ikey(1, actor_id='svc-other')], vault(billing=('issued', 1)), None, 'rotate', False,
     [('replace', uuid(1))], 'actor_id'),
    ('project: expires_at differs: replace', 'project', [pkey(1, expires=100)], vault(talos=('project', 1)),
     [{'name': 'talos', 'expires_at': iso(200)}], 'rotate', False, [('replace', uuid(1))], 'expires_at changed'),
    ('project: expires_at equal in another notation: nothing', 'project', [pkey(1, expires=200)], vault(talos=('project', 1)),
     [{'name': 'talos', 'expires_at': iso(200).replace('Z', '.000+00:00')}], 'rotate', False, [('none', uuid(1))], 'up to date'),
    ('several live keys, one is the stored one: the others retired', 'issued', [ikey(1), ikey(2)], vault(billing=('issued', 2)), None,
     'rotate', False, [('none', uuid(2)), ('retire', uuid(1))], 'up to date'),
    ('several live project keys, one is the stored one: the others retired', 'project', [pkey(1), pkey(2)], vault(talos=('project', 1)),
     None, 'rotate', False, [('none', uuid(1)), ('retire', uuid(2))], 'up to date'),
    ('several marked live keys, none stored: replaced by ONE new key (all others retired)', 'issued', [ikey(1), ikey(2), ikey(3)], {},
     None, 'rotate', False, [('replace', uuid(1)), ('retire', uuid(2)), ('retire', uuid(3))], '3 live keys with this name'),
    ('several project keys, none stored: replaced by ONE new key', 'project', [pkey(1), pkey(2)], vault(talos=('project', 7)), None,
     'rotate', False, [('replace', uuid(1)), ('retire', uuid(2))], '2 live keys'),
    ('several live keys, none stored, on_missing_secret=fail: stop', 'issued', [ikey(1), ikey(2)], {}, None, 'fail', False,
     [('fail', uuid(1))], '2 live keys'),
    ('issued key with the name but without the marker: stop', 'issued', [ikey(1, marked=False)], {}, None, 'rotate', False,
     [('fail', uuid(1))], 'does not take over keys it did not issue'),
    ('marked and unmarked keys with the name: stop', 'issued', [ikey(1), ikey(2, marked=False)], vault(billing=('issued', 1)), None,
     'rotate', False, [('fail', uuid(2))], 'without the marker'),
    ('prune: a project key of this environment no longer declared is deleted', 'project', [pkey(1), pkey(2, name='old')],
     vault(talos=('project', 1)), None, 'rotate', True, [('none', uuid(1)), ('prune', uuid(2))], 'up to date'),
    ('prune: an issued key of this environment no longer declared is revoked', 'issued', [ikey(1), ikey(2, name='old')],
     vault(billing=('issued', 1)), None, 'rotate', True, [('none', uuid(1)), ('prune', uuid(2))], 'up to date'),
    ('prune leaves keys of other environments and unmarked keys alone', 'issued',
     [ikey(1), ikey(2, name='x', metadata={'managed_by': 'ory.network', 'environment': 'prod'}), ikey(3, name='y', marked=False),
      {'key_id': uuid(4), 'name': 'prod:z', 'metadata': {}}], vault(billing=('issued', 1)), None, 'rotate', True,
     [('none', uuid(1))], 'up to date'),
    ('prune leaves project keys without the prefix alone', 'project', [pkey(1), dict(pkey(2), name='production:talos')],
     vault(talos=('project', 1)), None, 'rotate', True, [('none', uuid(1))], 'up to date'),
    ('without prune, undeclared keys stay', 'project', [pkey(1), pkey(2, name='old')], vault(talos=('project', 1)), None, 'rotate',
     False, [('none', uuid(1))], 'up to date'),
]


@pytest.mark.parametrize('row', ROWS, ids=[r[0] for r in ROWS])
def test_decision_table(row):
    dummy, plane, live, view, declared, on_missing, prune, expected, words = row
    steps = plan(plane, live, view, declared, on_missing, prune)
    assert summary(steps) == expected
    assert words in steps[0].reason
    assert all('\n' not in s.reason and s.reason for s in steps), 'one line each'


def test_reasons_and_results_carry_no_secret():
    view = vault(billing=('issued', 1))
    steps = plan('issued', [ikey(1, scopes=['x'])], view)
    text = repr([s.as_dict() for s in steps]) + repr(view)
    assert 'ory_ak_v1' not in text and 'ory_pat_' not in text
    assert steps[0].as_dict() == {'plane': 'issued', 'name': 'staging:billing', 'id': uuid(1), 'action': 'update',
                                  'reason': 'scopes changed', 'vault_var': 'ory_issued_api_key_billing'}


def test_update_carries_the_changes_for_patch():
    steps = plan('issued', [ikey(1, scopes=['other'])], vault(billing=('issued', 1)))
    assert steps[0].changes == {'scopes': ['invoices:read']}


def test_failures_name_plane_key_and_reason():
    steps = plan('issued', [ikey(1, marked=False)], {})
    assert failures(steps) == ['issued API key staging:billing: ' + steps[0].reason]


def test_embedded_key_id():
    assert embedded_key_id(ak_secret(uuid(5))) == uuid(5)
    assert embedded_key_id('ory_pat_abcdef') is None
    assert embedded_key_id('ory_ak_v1_0OIl_x') is None
    assert embedded_key_id('my_custom_prefix_v1_%s_abc' % b58(b'12:' + uuid(3).encode())) == uuid(3)
    assert embedded_key_id('ory_ak_v1_%s_abc' % b58(b'no-uuid-here')) is None
    assert embedded_key_id(None) is None


def test_stored_view_holds_no_secret():
    data = {'a': ak_secret(uuid(1)), 'a_meta': {'key_id': uuid(1)}, 'b_meta': {'key_id': uuid(2)}, 'other': 5}
    view = stored_view(data)
    assert view['a'] == {'key_id': uuid(1), 'secret': True, 'embedded_id': uuid(1), 'last_characters': 'ksum',
                         'previous': None}
    assert view['b'] == {'key_id': uuid(2), 'secret': False, 'embedded_id': None, 'last_characters': '',
                         'previous': None}
    assert view['other']['secret'] is False


@pytest.mark.parametrize('project,issued,words', [
    ([], [dict(ISSUED[0], ttl='0s')], 'ttl must be at least one second'),
    ([], [dict(ISSUED[0], ttl='0', rotate_before=None)], 'ttl must be at least one second'),
    ([{'name': 'talos', 'expires_in': '0'}], [], 'expires_in must be at least one second'),
    ([{'name': 'talos', 'expires_in': '90x'}], [], 'expires_in must be a duration'),
    ([{'name': 'talos', 'expires_in': '1.5h', 'rotate_before': '500ms'}], [], None),
    ([{'name': 'talos', 'expires_in': '10d', 'rotate_before': '14d'}], [], 'must be longer than rotate_before'),
    ([], [dict(ISSUED[0], ttl='7d')], 'must be longer than rotate_before'),
    ([{'name': 'talos', 'expires_at': 'tomorrow'}], [], 'expires_at must be an RFC 3339 timestamp'),
    ([{'name': 'talos', 'expires_at': iso(-1)}], [], 'is in the past'),
    ([{'name': 'talos', 'expires_at': iso(5), 'rotate_before': '7d'}], [], 'within rotate_before'),
    ([{'name': 'talos', 'expires_at': iso(5), 'expires_in': '1d'}], [], 'not both'),
    ([{'name': 'a'}, {'name': 'a'}], [], "declares the name 'a' twice"),
    ([{'name': 'a', 'vault_var': 'x'}], [dict(ISSUED[0], vault_var='x')], "vault_var 'x' is used by both"),
    ([{'name': 'a', 'vault_var': '1x'}], [], 'not a valid variable name'),
    ([{'name': 'a', 'typo': 1}], [], 'unknown options: typo'),
    ([], [dict(ISSUED[0], actor_id='')], 'needs an actor_id'),
    ([], [dict(ISSUED[0], metadata={'environment': 'x'})], 'must not set environment'),
    ([], [dict(ISSUED[0], ip_allowlist=['10.0.0.300/8'])], 'ip_allowlist must hold'),
    ([], [dict(ISSUED[0], rate_limit={'quota': 0, 'window': '1m'})], 'rate_limit.quota'),
    ([], [dict(ISSUED[0], rate_limit={'quota': 5, 'window': '0s'})], 'rate_limit.window'),
    ([], [dict(ISSUED[0], ttl='30d', rotate_before='1.5d')], None),
])
def test_declarations_are_checked_with_the_modules_parsers(project, issued, words):
    if words is None:
        parse_declarations(ENV, PREFIX, project, issued, at=NOW)
        return
    with pytest.raises(PlanError) as exc:
        parse_declarations(ENV, PREFIX, project, issued, at=NOW)
    assert words in str(exc.value)


def test_environment_and_talos_key_are_checked():
    with pytest.raises(PlanError, match='environment'):
        parse_declarations('bad env', PREFIX, [], [])
    with pytest.raises(PlanError, match="talos_key 'nope'"):
        parse_declarations(ENV, PREFIX, PROJECT, [], talos_key='nope', at=NOW)


def test_issued_declaration_is_marked_with_the_environment():
    dummy, issued = parse_declarations(ENV, PREFIX, [], [dict(ISSUED[0], metadata={'team': 'x'})], at=NOW)
    assert issued[0].metadata == {'team': 'x', 'managed_by': 'ory.network', 'environment': ENV}
    assert issued[0].full_name == 'staging:billing' and issued[0].vault_var == 'ory_issued_api_key_billing'
