# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The key audit: what each key of an environment looks like, and what is wrong with it. Pure functions, no I/O.

Input: the keys of each plane as the APIs list them (console project and workspace keys, Talos issued and
imported keys), the metadata of the secrets stored in the environment's vault file (never the secrets), the
declared keys (for ``rotate_before``) and the time. A key the vault file records as the ``previous`` key of a
variable (replaced, kept live in its grace period by the bootstrap) is flagged ``retiring`` with its retire-after
time. Output: one row per key with its flags, and per flag the count and the keys, all sorted, so that the same input
always gives the same output.
"""

from __future__ import annotations

from ansible_collections.ory.network.plugins.module_utils._api_keys import format_time, parse_duration, parse_time
from ansible_collections.ory.network.plugins.module_utils._planner import previous_due, previous_of

PLANES = ('project', 'workspace', 'issued', 'imported')

# Flags, in the order reports show them (the first one a key has decides its colour in the timeline).
FLAGS = (
    ('expired', 'Expired but still listed'),
    ('retiring', 'Replaced, kept live until retired (grace period)'),
    ('rotate_due', 'Within its declared rotate_before'),
    ('expiring', 'Expiring within the window'),
    ('no_stored_secret', 'Live, but its secret is in no vault file'),
    ('duplicate_name', 'Shares its name with another live key'),
    ('unmarked', 'Not created by the bootstrap (no marker)'),
    ('never_used', 'Never used'),
    ('unused', 'Not used for a long time'),
    ('no_expiry', 'Never expires'),
)
FLAG_NAMES = tuple(name for name, dummy in FLAGS)
MARKER_MANAGER = 'ory.network'


def _days(seconds):
    return int(seconds // 86400)


def normalize_console(key, plane):
    """A console ProjectApiKey / WorkspaceApiKey as an audit row (status computed later)."""
    return {
        'plane': plane,
        'id': str(key.get('id') or ''),
        'name': key.get('name') or '',
        'actor_id': None,
        'status': 'active',
        'created': key.get('created_at'),
        'expires': key.get('expires_at'),
        'last_used': None,
        'revoked_at': None,
        'metadata': {},
        'uses_reported': False,
    }


def normalize_talos(key, plane):
    """A Talos IssuedApiKey / ImportedApiKey as an audit row."""
    status = {'KEY_STATUS_REVOKED': 'revoked'}.get(key.get('status'), 'active')
    return {
        'plane': plane,
        'id': str(key.get('key_id') or ''),
        'name': key.get('name') or '',
        'actor_id': key.get('actor_id') or None,
        'status': status,
        'created': key.get('create_time'),
        'expires': key.get('expire_time'),
        'last_used': key.get('last_used_time'),
        'revoked_at': key.get('update_time') if status == 'revoked' else None,
        'metadata': key.get('metadata') if isinstance(key.get('metadata'), dict) else {},
        'uses_reported': True,
    }


def has_marker(row, environment, name_prefix):
    """Whether the bootstrap role made this key: project keys by their name prefix, Talos keys by their metadata."""
    if row['plane'] == 'project':
        return row['name'].startswith(name_prefix)
    if row['plane'] in ('issued', 'imported'):
        meta = row['metadata']
        return meta.get('managed_by') == MARKER_MANAGER and meta.get('environment') == environment
    return True      # workspace keys cannot be created by the collection


def declared_keys(**by_plane):
    """[{plane, name, rotate_before}] from lists of declared keys per plane (other fields of an entry are ignored)."""
    out = []
    for plane in sorted(by_plane):
        for item in by_plane[plane] or []:
            if isinstance(item, dict) and item.get('name'):
                out.append({'plane': plane, 'name': str(item['name']), 'rotate_before': item.get('rotate_before')})
    return out


def declared_rotate_before(declared):
    """{(plane, name): seconds} from the declared keys [{plane, name, rotate_before}] (names as in Ory Network)."""
    out = {}
    for item in declared or []:
        if item.get('rotate_before'):
            out[(item.get('plane') or 'issued', item['name'])] = parse_duration(item['rotate_before'], 'declared_keys.rotate_before')
    return out


def audit_environment(environment, planes, stored, declared, at, window='30d', unused_after='90d', revoked_within='30d',
                      name_prefix=None):
    """Classify every key of one environment.

    planes: {'project': [...], 'workspace': [...], 'issued': [...], 'imported': [...]}; a plane missing or None was not read.
    stored: list of vault metadata {var, key_id, name, expires_at, optional previous (the ``previous`` record of
    ``<var>_meta``)} or None when no vault file was given.
    at: the audit time (aware datetime). Returns the environment's audit (a JSON-able dict).
    """
    prefix = name_prefix if name_prefix is not None else '%s:' % environment
    window_s = parse_duration(window, 'expiring_within')
    unused_s = parse_duration(unused_after, 'unused_after')
    revoked_s = parse_duration(revoked_within, 'revoked_within')
    rotate = declared_rotate_before(declared)
    stored_ids = set(str(s.get('key_id')) for s in stored or [] if s.get('key_id'))
    stored_vars = dict((str(s.get('key_id')), s.get('var')) for s in stored or [] if s.get('key_id'))
    # the previous keys (kept live in their grace period): id -> (variable of the successor, successor id, record)
    previous = {}
    for entry in stored or []:
        record = previous_of({'previous': entry.get('previous')})
        if record:
            previous[str(record['key_id'])] = (entry.get('var'), str(entry.get('key_id') or ''), record)

    rows = []
    for plane in PLANES:
        for key in (planes or {}).get(plane) or []:
            row = normalize_console(key, plane) if plane in ('project', 'workspace') else normalize_talos(key, plane)
            if row['status'] == 'revoked':
                revoked_at = parse_time(row['revoked_at'])
                if revoked_at is not None and (at - revoked_at).total_seconds() > revoked_s:
                    continue         # revoked long ago: history, not part of the picture
            rows.append(row)

    for row in rows:
        expires = parse_time(row['expires'])
        remaining = (expires - at).total_seconds() if expires is not None else None
        if row['status'] != 'revoked' and remaining is not None and remaining <= 0:
            row['status'] = 'expired'
        row['days_to_expiry'] = _days(remaining) if remaining is not None else None
        row['marker'] = has_marker(row, environment, prefix)
        row['stored'] = (row['id'] in stored_ids) if stored is not None else None
        row['vault_var'] = stored_vars.get(row['id'])
        row['rotate_before_days'] = None
        flags = []
        live = row['status'] == 'active'
        waiting = previous.get(row['id']) if live else None
        row['previous_of'] = waiting[0] if waiting else None
        row['retire_after'] = waiting[2]['retire_after'] if waiting else None
        row['retire_due'] = _retire_due(waiting, rows, at) if waiting else None
        if row['status'] == 'expired':
            flags.append('expired')
        if waiting:
            flags.append('retiring')
        if live and remaining is not None:
            declared_s = rotate.get((row['plane'], row['name']))
            if declared_s is None and row['name'].startswith(prefix):
                declared_s = rotate.get((row['plane'], row['name'][len(prefix):]))
            if declared_s is not None:
                row['rotate_before_days'] = _days(declared_s)
                if remaining <= declared_s and not waiting:       # a previous key is replaced already
                    flags.append('rotate_due')
            if remaining <= window_s:
                flags.append('expiring')
        if live and stored is not None and row['plane'] in ('project', 'issued') and not row['stored'] and not waiting:
            flags.append('no_stored_secret')
        if not row['marker'] and row['status'] != 'revoked':
            flags.append('unmarked')
        if live and row['uses_reported']:
            last_used = parse_time(row['last_used'])
            if last_used is None:
                created = parse_time(row['created'])
                if created is None or (at - created).total_seconds() > 86400:
                    flags.append('never_used')    # a key issued today has had no chance yet
            elif (at - last_used).total_seconds() > unused_s:
                flags.append('unused')
        if row['status'] != 'revoked' and row['expires'] in (None, ''):
            flags.append('no_expiry')
        row['flags'] = flags

    by_name = {}
    for row in rows:
        if row['status'] == 'active' and 'retiring' not in row['flags']:    # a previous key and its successor share a name
            by_name.setdefault((row['plane'], row['name']), []).append(row)
    for group in by_name.values():
        if len(group) > 1:
            for row in group:
                row['flags'].append('duplicate_name')

    for row in rows:
        row['flags'] = [name for name in FLAG_NAMES if name in row['flags']]
        row['label'] = key_label(row)
        for field in ('metadata', 'uses_reported', 'revoked_at'):
            row.pop(field, None)
    rows.sort(key=lambda r: (PLANES.index(r['plane']), r['name'], r['id']))

    flags = {}
    for name, title in FLAGS:
        labels = [r['label'] for r in rows if name in r['flags']]
        flags[name] = {'title': title, 'count': len(labels), 'keys': labels}
    summary = {
        'key_count': len(rows),
        'by_plane': dict((plane, len([r for r in rows if r['plane'] == plane])) for plane in PLANES),
        'by_status': dict((s, len([r for r in rows if r['status'] == s])) for s in ('active', 'expired', 'revoked')),
        'flagged': len([r for r in rows if r['flags']]),
    }
    return {
        'environment': environment,
        'audited_at': format_time(at),
        'settings': {'expiring_within_days': _days(window_s), 'unused_after_days': _days(unused_s), 'revoked_within_days': _days(revoked_s),
                     'name_prefix': prefix, 'vault_file_read': stored is not None},
        'planes_read': sorted(plane for plane in PLANES if (planes or {}).get(plane) is not None),
        'summary': summary,
        'flags': flags,
        'api_keys': rows,
    }


def _retire_due(waiting, rows, at):
    """Whether the bootstrap's next run retires this previous key (the planner's rule, on the audit time)."""
    successor = next((r for r in rows if r['id'] == waiting[1]), {})
    due, dummy = previous_due(waiting[2], at, False, {'key_id': successor.get('id'), 'last_used_time': successor.get('last_used')})
    return due


def key_label(row):
    """How reports name a key: plane, name and a short id (never any part of a secret)."""
    short = row['id'][:8] if row['plane'] != 'imported' else row['id'][:12]
    return '%s %s (%s)' % (row['plane'], row['name'] or '(no name)', short)


def combine(audits):
    """All environments' audits in one report, sorted by environment, with totals per flag."""
    audits = sorted((a for a in audits if isinstance(a, dict) and a.get('environment')), key=lambda a: a['environment'])
    totals = dict((name, sum(a['flags'][name]['count'] for a in audits)) for name in FLAG_NAMES)
    return {
        'environments': audits,
        'totals': {'environments': len(audits), 'key_count': sum(a['summary']['key_count'] for a in audits),
                   'flagged': sum(a['summary']['flagged'] for a in audits), 'flags': totals},
        'flag_titles': dict(FLAGS),
        'audited_at': max((a['audited_at'] for a in audits), default=None),
    }
