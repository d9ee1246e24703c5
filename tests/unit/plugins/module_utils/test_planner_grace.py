"""The grace period in the decision engine (issue 12): the rows of the table "What it decides, per key" of
roles/api_key_bootstrap/README.md about the previous key, row by row (test_planner.py has the other rows).

A previous key is the key a replacement superseded and kept live; the vault file's metadata records it as
``<vault_var>_meta.previous``. Times: NOW is the controller's clock, ``server_at`` Ory Network's (the Date of its
answers), which grace periods are measured on.
"""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.ory.network.plugins.module_utils._planner import (
    PlanError, parse_declarations, plan_plane, previous_record, stored_view,
)
from ansible_collections.ory.network.tests.unit.plugins.module_utils.test_planner import (
    ENV, NOW, PREFIX, ak_secret, ikey, iso, pkey, uuid,
)

HOUR = datetime.timedelta(hours=1)
PROJECT = {'name': 'talos', 'expires_in': '90d', 'rotate_before': '14d'}
ISSUED = {'name': 'billing', 'actor_id': 'svc-billing', 'scopes': ['invoices:read'], 'ttl': '30d', 'rotate_before': '7d'}


def grace_vault(plane, name, n, previous=None, secret_of=None):
    """The vault view of one variable holding the secret of key n (or of secret_of), with the previous key's record."""
    var = 'ory_%s_api_key_%s' % (plane, name)
    m = secret_of or n
    meta = {'key_id': uuid(n), 'name': PREFIX + name}
    if previous:
        meta['previous'] = previous
    return stored_view({var: ak_secret(uuid(m)) if plane == 'issued' else 'ory_pat_secretsecret%04d' % m, var + '_meta': meta})


def prev(n, name, until_hours=24, when_used=False):
    """The record of previous key n, replaced two days before NOW, waiting until NOW + until_hours (None: no time)."""
    replaced = NOW - 48 * HOUR
    retire_after = None if until_hours is None else int((NOW + until_hours * HOUR - replaced).total_seconds())
    return previous_record(uuid(n), PREFIX + name, replaced, retire_after, when_used)


def plan(plane, live, view, declared=None, defaults=None, server_at=None, retire_previous=False, on_missing='rotate'):
    item = dict(PROJECT if plane == 'project' else ISSUED, **(declared or {}))
    project, issued = parse_declarations(ENV, PREFIX, [item] if plane == 'project' else [], [item] if plane == 'issued' else [],
                                         at=NOW, defaults=defaults)
    decls = project if plane == 'project' else issued
    return plan_plane(plane, decls, live, view, NOW, ENV, PREFIX, on_missing, False, server_at, retire_previous)


def summary(steps):
    return [(s.action, s.key_id, s.grace) for s in steps]


DUE_P = pkey(1, expires=10)          # a project key within rotate_before 14d
DUE_I = ikey(1, expires=3)           # an issued key within rotate_before 7d

# (row, plane, live keys, vault view, declared (extra fields), defaults, server_at, retire_previous,
#  expected [(action, key id, grace)], words in the reason of the last step)
ROWS = [
    ('replaced with retire_after: the old key is kept live (grace)', 'project', [DUE_P], grace_vault('project', 'talos', 1),
     {'retire_after': '24h'}, None, None, False, [('replace', uuid(1), True)], 'within rotate_before'),
    ('replaced with the global retire_after (role default): grace', 'issued', [DUE_I], grace_vault('issued', 'billing', 1),
     None, {'retire_after': '24h'}, None, False, [('replace', uuid(1), True)], 'within rotate_before'),
    ('issued key replaced with retire_when_used only: grace', 'issued', [DUE_I], grace_vault('issued', 'billing', 1),
     {'retire_when_used': True}, None, None, False, [('replace', uuid(1), True)], 'within rotate_before'),
    ('issued key, actor_id changed (replace) with retire_after: grace', 'issued', [ikey(1, actor_id='svc-other')],
     grace_vault('issued', 'billing', 1), {'retire_after': '1d'}, None, None, False, [('replace', uuid(1), True)], 'actor_id'),
    ('replaced without a grace period: retired in the same run (no grace)', 'project', [DUE_P], grace_vault('project', 'talos', 1),
     None, None, None, False, [('replace', uuid(1), False)], 'within rotate_before'),
    ('a key of its own retire_after 0 overrides the global grace period: no grace', 'issued', [DUE_I],
     grace_vault('issued', 'billing', 1), {'retire_after': '0'}, {'retire_after': '24h'}, None, False,
     [('replace', uuid(1), False)], 'within rotate_before'),
    ('retire_previous does not retire the key replaced in the same run: it still waits', 'project', [DUE_P],
     grace_vault('project', 'talos', 1), {'retire_after': '24h'}, None, None, True, [('replace', uuid(1), True)], 'rotate_before'),
    ('the previous key before its retire_after: kept live (grace), no write', 'project', [pkey(1), pkey(2)],
     grace_vault('project', 'talos', 2, prev(1, 'talos')), {'retire_after': '24h'}, None, NOW, False,
     [('none', uuid(2), False), ('grace', uuid(1), False)], 'kept live until %s, or a run with retire_previous' % iso(1)),
    ('issued previous key before its retire_after: grace', 'issued', [ikey(1), ikey(2)],
     grace_vault('issued', 'billing', 2, prev(1, 'billing')), None, None, NOW, False,
     [('none', uuid(2), False), ('grace', uuid(1), False)], 'previous key in its grace period: kept live until'),
    ('the previous key after its retire_after (Ory Network clock): retire', 'project', [pkey(1), pkey(2)],
     grace_vault('project', 'talos', 2, prev(1, 'talos')), {'retire_after': '24h'}, None, NOW + 25 * HOUR, False,
     [('none', uuid(2), False), ('retire', uuid(1), False)], 'its grace period ended at'),
    ('issued previous key after its retire_after: retire', 'issued', [ikey(1), ikey(2)],
     grace_vault('issued', 'billing', 2, prev(1, 'billing')), None, None, NOW + 25 * HOUR, False,
     [('none', uuid(2), False), ('retire', uuid(1), False)], 'its grace period ended at'),
    ('retire_after is measured on Ory Network clock, not the controller: the server has not reached it, grace', 'project',
     [pkey(1), pkey(2)], grace_vault('project', 'talos', 2, prev(1, 'talos', until_hours=-1)), None, None, NOW - 2 * HOUR, False,
     [('none', uuid(2), False), ('grace', uuid(1), False)], 'kept live until'),
    ('the previous key with retire_previous: retired at once, whatever its retire_after', 'issued', [ikey(1), ikey(2)],
     grace_vault('issued', 'billing', 2, prev(1, 'billing', until_hours=240)), None, None, NOW, True,
     [('none', uuid(2), False), ('retire', uuid(1), False)], 'retired by retire_previous'),
    ('previous issued key with retire_when_used, the new key never used: grace until first use', 'issued', [ikey(1), ikey(2)],
     grace_vault('issued', 'billing', 2, prev(1, 'billing', until_hours=None, when_used=True)), None, None, NOW, False,
     [('none', uuid(2), False), ('grace', uuid(1), False)], 'until the new key is first used, or a run with retire_previous'),
    ('previous issued key with retire_when_used, the new key shows a last_used_time: retire', 'issued',
     [ikey(1), ikey(2, last_used_time=iso(0))], grace_vault('issued', 'billing', 2, prev(1, 'billing', when_used=True)), None, None,
     NOW, False, [('none', uuid(2), False), ('retire', uuid(1), False)], 'the new key %s was used at' % uuid(2)),
    ('a used new key does not retire a previous key recorded without retire_when_used', 'issued',
     [ikey(1), ikey(2, last_used_time=iso(0))], grace_vault('issued', 'billing', 2, prev(1, 'billing')), None, None, NOW, False,
     [('none', uuid(2), False), ('grace', uuid(1), False)], 'kept live until'),
    ('the previous key is no longer live: no step for it (the engine drops its record)', 'project', [pkey(2)],
     grace_vault('project', 'talos', 2, prev(1, 'talos')), None, None, NOW, False, [('none', uuid(2), False)], 'up to date'),
    ('another live key of the name besides the previous one: retired as a duplicate, the previous key waits', 'issued',
     [ikey(1), ikey(2), ikey(3)], grace_vault('issued', 'billing', 2, prev(1, 'billing')), None, None, NOW, False,
     [('none', uuid(2), False), ('grace', uuid(1), False), ('retire', uuid(3), False)], 'a duplicate'),
    ('due again while a previous key waits: the replacement is deferred, the previous key kept', 'project',
     [pkey(1), pkey(2, expires=10)], grace_vault('project', 'talos', 2, prev(1, 'talos')), {'retire_after': '24h'}, None, NOW, False,
     [('none', uuid(2), False), ('grace', uuid(1), False)], 'waits while its previous key %s is in its grace period' % uuid(1)),
    ('due again and the previous key is retired in the same run: replaced, the current key the new previous', 'project',
     [pkey(1), pkey(2, expires=10)], grace_vault('project', 'talos', 2, prev(1, 'talos')), {'retire_after': '24h'}, None, NOW, True,
     [('replace', uuid(2), True), ('retire', uuid(1), False)], 'within rotate_before'),
    ('lost secret with a grace period (project): replaced, never kept as previous', 'project', [pkey(1)], {},
     {'retire_after': '24h'}, None, NOW, False, [('replace', uuid(1), False)], 'lost secret'),
    ('lost secret with a grace period (issued, stored for another key): rotated, never kept', 'issued', [ikey(1)],
     grace_vault('issued', 'billing', 5), {'retire_after': '24h', 'retire_when_used': True}, None, NOW, False,
     [('rotate', uuid(1), False)], 'lost secret'),
    ('lost secret while a previous key waits: one new key, the current and the previous key both retired', 'issued',
     [ikey(1), ikey(2)], grace_vault('issued', 'billing', 2, prev(1, 'billing'), secret_of=7), {'retire_after': '24h'}, None, NOW,
     False, [('replace', uuid(1), False), ('retire', uuid(2), False)], 'lost secret: replaced by the one new key'),
]


@pytest.mark.parametrize('row', ROWS, ids=[r[0] for r in ROWS])
def test_grace_rows(row):
    dummy, plane, live, view, declared, defaults, server_at, retire_previous, expected, words = row
    steps = plan(plane, live, view, declared, defaults, server_at, retire_previous)
    assert summary(steps) == expected
    assert any(words in s.reason for s in steps), [s.reason for s in steps]
    assert all('\n' not in s.reason and s.reason for s in steps), 'one line each'


def test_the_previous_record_holds_times_and_no_secret():
    record = previous_record(uuid(1), 'staging:talos', NOW, 86400, False)
    assert record == {'key_id': uuid(1), 'name': 'staging:talos', 'replaced_at': '2027-01-01T00:00:00Z',
                      'retire_after': '2027-01-02T00:00:00Z', 'retire_when_used': False}
    assert previous_record(uuid(1), 'staging:talos', NOW, None, True)['retire_after'] is None


def test_stored_view_carries_the_previous_record_and_only_its_fields():
    view = grace_vault('issued', 'billing', 2, dict(prev(1, 'billing'), secret='ory_ak_v1_should_not_travel', extra=1))
    previous = view['ory_issued_api_key_billing']['previous']
    assert set(previous) == {'key_id', 'name', 'replaced_at', 'retire_after', 'retire_when_used'}
    assert previous['key_id'] == uuid(1)
    assert 'should_not_travel' not in repr(view)
    # a record without a key id is no previous key
    assert grace_vault('issued', 'billing', 2, {'name': 'x'})['ory_issued_api_key_billing']['previous'] is None


def test_retire_when_used_on_a_project_key_is_refused():
    with pytest.raises(PlanError, match='retire_when_used applies to issued keys only'):
        plan('project', [], {}, {'retire_when_used': True})


def test_retire_after_must_be_a_duration():
    with pytest.raises(PlanError, match='retire_after must be a duration'):
        plan('issued', [], {}, {'retire_after': 'tomorrow'})


def test_a_key_left_without_its_own_values_takes_the_global_ones():
    """The role's argument spec may hand every key retire_after/retire_when_used as null: null means "not set"."""
    decls = parse_declarations(ENV, PREFIX, [{'name': 'talos', 'retire_after': None}],
                               [{'name': 'billing', 'actor_id': 'svc', 'retire_after': None, 'retire_when_used': None},
                                {'name': 'other', 'actor_id': 'svc', 'retire_after': '0', 'retire_when_used': False}],
                               at=NOW, defaults={'retire_after': '24h', 'retire_when_used': True})
    project, issued = decls
    assert project[0].retire_after == 86400 and not project[0].retire_when_used
    assert issued[0].retire_after == 86400 and issued[0].retire_when_used
    assert issued[1].retire_after is None and not issued[1].retire_when_used
